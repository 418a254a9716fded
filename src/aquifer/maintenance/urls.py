"""Pages of the maintenance app (URL names ``maintenance:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.maintenance import views

app_name = "maintenance"

urlpatterns: list[URLPattern | URLResolver] = [
    path("maintenance/", views.ticket_list, name="ticket_list"),
    path("maintenance/tickets/new/", views.ticket_new, name="ticket_new"),
    path("maintenance/tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("maintenance/tickets/<int:pk>/act", views.ticket_act, name="ticket_act"),
    path("maintenance/devices/", views.device_list, name="device_list"),
    path("maintenance/patrols/", views.patrol_list, name="patrol_list"),
    path("maintenance/patrols/new/", views.patrol_new, name="patrol_new"),
    path("maintenance/patrols/<int:pk>/", views.patrol_detail, name="patrol_detail"),
    path("maintenance/figures/", views.figures, name="figures"),
    path("maintenance/checklist/", views.checklist, name="checklist"),
    path("maintenance/checklist/<int:pk>/", views.checklist, name="checklist_edit"),
]
