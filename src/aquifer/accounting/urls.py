"""Pages of the accounting app (URL names ``accounting:<name>``)."""

from django.urls import URLPattern, URLResolver

app_name = "accounting"

urlpatterns: list[URLPattern | URLResolver] = []
