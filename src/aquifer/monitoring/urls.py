"""Pages of the monitoring app (URL names ``monitoring:<name>``)."""

from django.urls import URLPattern, URLResolver

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = []
