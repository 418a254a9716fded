"""Pages of township supervision (URL names ``supervision:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.supervision import views

app_name = "supervision"

urlpatterns: list[URLPattern | URLResolver] = [
    path("supervision/", views.index, name="index"),
    path("supervision/plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("supervision/plans/<int:pk>/act", views.plan_act, name="plan_act"),
    path("supervision/targets/", views.targets, name="targets"),
    path("supervision/assessment/<int:year>/", views.assessment, name="assessment"),
    path("supervision/assessment/<int:year>/pdf", views.assessment_pdf, name="assessment_pdf"),
    path(
        "supervision/assessment/<int:year>/townships/<int:township_id>/",
        views.assessment_township,
        name="assessment_township",
    ),
    path(
        "supervision/assessment/<int:year>/townships/<int:township_id>/evidence/<slug:indicator>/",
        views.evidence,
        name="evidence",
    ),
    path("supervision/inspections/", views.inspection_list, name="inspection_list"),
    path("supervision/inspections/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("supervision/orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("supervision/orders/<int:pk>/act", views.order_act, name="order_act"),
]
