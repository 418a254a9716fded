"""Pages of the notifications app (URL names ``notifications:<name>``)."""

from django.urls import URLPattern, URLResolver

app_name = "notifications"

urlpatterns: list[URLPattern | URLResolver] = []
