"""Pages of the closure programme (URL names ``closure:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.closure import views

app_name = "closure"

urlpatterns: list[URLPattern | URLResolver] = [
    path("closure/", views.index, name="index"),
    path("closure/export", views.export, name="export"),
    path("closure/map/", views.closure_map, name="map"),
    path("closure/map.geojson", views.map_data, name="map_data"),
    path("closure/candidates/", views.candidates, name="candidates"),
    path("closure/progress/", views.progress, name="progress"),
    path("closure/balance/", views.balance, name="balance"),
    path("closure/recovery/", views.recovery_report, name="recovery"),
    path("closure/attribution/", views.attribution, name="attribution"),
    path("closure/meteo/", views.meteo_series, name="meteo"),
    path("closure/supply/", views.supply, name="supply"),
    path("closure/supply/import", views.supply_import, name="supply_import"),
    path("closure/<int:pk>/", views.entry_detail, name="entry_detail"),
    path("closure/<int:pk>/act", views.entry_act, name="entry_act"),
]
