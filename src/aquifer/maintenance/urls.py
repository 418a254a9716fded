"""Pages of the maintenance app (URL names ``maintenance:<name>``)."""

from django.urls import URLPattern, URLResolver

app_name = "maintenance"

urlpatterns: list[URLPattern | URLResolver] = []
