"""Pages of the analysis app (URL names ``analysis:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.analysis import views

app_name = "analysis"

urlpatterns: list[URLPattern | URLResolver] = [
    path("analysis/", views.overview, name="overview"),
    path("analysis/balance/", views.balance, name="balance"),
    path("analysis/wells/", views.well_trends, name="well_trends"),
    path("analysis/wells/<int:pk>/", views.well_detail, name="well_detail"),
    path("analysis/wells/<int:pk>/soundings/", views.sounding_new, name="sounding_new"),
    path("analysis/quality/", views.sample_list, name="sample_list"),
    path("analysis/quality/new/", views.sample_new, name="sample_new"),
    path("analysis/quality/import/", views.sample_import, name="sample_import"),
    path("analysis/quality/<int:pk>/", views.sample_detail, name="sample_detail"),
]
