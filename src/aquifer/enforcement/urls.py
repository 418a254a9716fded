"""Pages of the enforcement app (URL names ``enforcement:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.enforcement import views

app_name = "enforcement"

urlpatterns: list[URLPattern | URLResolver] = [
    path("enforcement/", views.case_list, name="case_list"),
    path("enforcement/cases/new/", views.case_new, name="case_new"),
    path("enforcement/cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("enforcement/cases/<int:pk>/step", views.case_step, name="case_step"),
    path("enforcement/cases/<int:pk>/evidence", views.case_evidence, name="case_evidence"),
    path("enforcement/cases/<int:pk>/frames", views.case_frames, name="case_frames"),
    path(
        "enforcement/cases/<int:pk>/documents/<slug:code>",
        views.case_document,
        name="case_document",
    ),
    path("enforcement/alarms/<int:pk>/case", views.case_from_alarm, name="case_from_alarm"),
    path("enforcement/patrols/<int:pk>/case", views.case_from_patrol, name="case_from_patrol"),
    path("enforcement/metering/", views.metering, name="metering"),
    path("enforcement/electricity/", views.electricity, name="electricity"),
    path("enforcement/sources/", views.source_list, name="source_list"),
    path("enforcement/sources/<int:pk>/", views.source_detail, name="source_detail"),
    path("enforcement/sources/<int:pk>/edit", views.source_edit, name="source_edit"),
    path("credit/", views.credit, name="credit"),
]
