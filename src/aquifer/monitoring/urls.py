"""Pages of the monitoring app (URL names ``monitoring:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.monitoring import views

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = [
    path("alarms/", views.alarm_list, name="alarm_list"),
    path("alarms/bulk/", views.alarm_bulk, name="alarm_bulk"),
    path("alarms/<int:pk>/", views.alarm_detail, name="alarm_detail"),
    path(
        "alarms/<int:pk>/<str:action>/",
        views.alarm_action,
        name="alarm_action",
    ),
    path("health/map/", views.health_map, name="health_map"),
    path("health/", views.health_figures, name="health_figures"),
    path("findings/", views.finding_list, name="finding_list"),
    path("findings/<int:pk>/review/", views.finding_review, name="finding_review"),
    path("meter-changes/new/", views.meter_change_new, name="meter_change_new"),
]
