"""Pages of the rights app (URL names ``rights:<name>``)."""

from django.urls import URLPattern, URLResolver

app_name = "rights"

urlpatterns: list[URLPattern | URLResolver] = []
