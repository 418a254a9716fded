"""Pages of the notifications app (URL names ``notifications:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.notifications import views

app_name = "notifications"

urlpatterns: list[URLPattern | URLResolver] = [
    path("notifications/", views.inbox, name="inbox"),
    path("notifications/<int:pk>/open", views.open_message, name="open"),
    path("notifications/read-all", views.read_all, name="read_all"),
    path("notifications/contact/", views.contact, name="contact"),
    path("notifications/rules/", views.rules, name="rules"),
    path("notifications/rules/<int:pk>/", views.rules, name="rule_edit"),
    path("notifications/deliveries/", views.deliveries, name="deliveries"),
]
