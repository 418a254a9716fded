"""Pages of the analysis app (URL names ``analysis:<name>``)."""

from django.urls import URLPattern, URLResolver

app_name = "analysis"

urlpatterns: list[URLPattern | URLResolver] = []
