"""Registry pages: list, detail, create and edit for each entity, and the Excel import.

URL names are ``registry:<model>_<kind>`` (``registry:well_detail``), as the models'
``get_absolute_url`` expect; the path segments are the API's (``/water-users/``).
"""

from functools import partial

from django.urls import URLPattern, path

from aquifer.core.policies import routes
from aquifer.registry import views, views_import

app_name = "registry"


def entity_urls(name: str, editable: bool = True) -> list[URLPattern]:
    e = views.ENTITIES[name]
    label = e.model._meta.label_lower
    kinds = {"list": "view", "detail": "view", "create": "add", "edit": "change"}
    routes({f"registry:{name}_{kind}": (label, action) for kind, action in kinds.items()})
    urls = [
        path(f"{e.slug}/", partial(views.object_list, entity=e), name=f"{name}_list"),
        path(f"{e.slug}/<int:pk>/", partial(views.object_detail, entity=e), name=f"{name}_detail"),
    ]
    if editable:
        urls += [
            path(f"{e.slug}/new/", partial(views.object_edit, entity=e), name=f"{name}_create"),
            path(
                f"{e.slug}/<int:pk>/edit/",
                partial(views.object_edit, entity=e),
                name=f"{name}_edit",
            ),
        ]
    return urls


urlpatterns = [
    *entity_urls("township", editable=False),
    *entity_urls("zone"),
    *entity_urls("wateruser"),
    *entity_urls("well"),
    *entity_urls("monitoringwell"),
    *entity_urls("device"),
    path("import/", views_import.import_view, name="import"),
]
