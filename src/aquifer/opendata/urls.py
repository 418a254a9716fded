from django.urls import path, re_path

from aquifer.opendata import views
from aquifer.opendata.ogcapi import views as ogc
from aquifer.opendata.sta import views as sta

app_name = "opendata"

urlpatterns = [
    path("sta/v1.1/", sta.root, name="sta_root"),
    re_path(r"^sta/v1\.1/(?P<path>.+)$", sta.resource, name="sta"),
    path("ogcapi/", ogc.landing, name="ogc_landing"),
    path("ogcapi/conformance", ogc.conformance, name="ogc_conformance"),
    path("ogcapi/collections", ogc.collections, name="ogc_collections"),
    path("ogcapi/collections/<str:cid>", ogc.collection, name="ogc_collection"),
    path("ogcapi/collections/<str:cid>/items", ogc.items, name="ogc_items"),
    path("ogcapi/collections/<str:cid>/items/<str:pk>", ogc.item, name="ogc_item"),
    path("opendata/forwarding/", views.forwarding, name="forwarding"),
    path("opendata/exchange/", views.exchange_files, name="exchange"),
]
