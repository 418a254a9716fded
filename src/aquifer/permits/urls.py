"""Pages of the permits app (URL names ``permits:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.permits import views

app_name = "permits"

urlpatterns: list[URLPattern | URLResolver] = [
    path("permits/", views.permit_list, name="permit_list"),
    path("permits/export/", views.permit_export, name="permit_export"),
    path("permits/apply/", views.permit_apply, name="permit_apply"),
    path("permits/<int:pk>/", views.permit_detail, name="permit_detail"),
    path("permits/<int:pk>/request/", views.permit_request, name="permit_request"),
    path("permits/<int:pk>/quota/", views.permit_quota, name="permit_quota"),
    path("permits/<int:pk>/cancel/", views.permit_cancel, name="permit_cancel"),
    path(
        "permits/applications/<int:pk>/review/",
        views.application_review,
        name="application_review",
    ),
    path(
        "permits/applications/<int:pk>/decide/",
        views.application_decide,
        name="application_decide",
    ),
    path("permits/quota-use/", views.quota_use, name="quota_use"),
    path("permits/quota-use/export/", views.quota_export, name="quota_export"),
    path("permits/ledger/", views.zone_ledger, name="zone_ledger"),
    path("permits/ledger/export/", views.ledger_export, name="ledger_export"),
    path("permits/rules/", views.rules_page, name="rules"),
    path("permits/rules/settings/", views.rules_settings, name="rules_settings"),
    path("permits/rules/emergency/", views.window_declare, name="window_declare"),
    path("permits/rules/emergency/<int:pk>/end/", views.window_end, name="window_end"),
]
