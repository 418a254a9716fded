"""URL map: pages, the REST API under /api/, the admin, and language switching."""

from django.contrib import admin
from django.urls import include, path

from aquifer.api.api import api
from aquifer.core.views import home
from aquifer.registry.views import county_map

#: A refused page sends an anonymous visitor to log in (aquifer.core.views.permission_denied).
handler403 = "aquifer.core.views.permission_denied"

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    # The home page is the morning view of the user's role (core/morning.py); the public's,
    # the portal. The county map has its own address.
    path("", home, name="home"),
    path("map/", county_map, name="county_map"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("aquifer.core.urls")),
    path("", include("aquifer.registry.urls")),
    path("", include("aquifer.monitoring.urls")),
    path("", include("aquifer.maintenance.urls")),
    path("", include("aquifer.closure.urls")),
    path("", include("aquifer.notifications.urls")),
    path("", include("aquifer.permits.urls")),
    path("", include("aquifer.accounting.urls")),
    path("", include("aquifer.analysis.urls")),
    path("", include("aquifer.rights.urls")),
    path("", include("aquifer.enforcement.urls")),
    path("", include("aquifer.supervision.urls")),
    path("", include("aquifer.portal.urls")),
    path("", include("aquifer.opendata.urls")),
]
