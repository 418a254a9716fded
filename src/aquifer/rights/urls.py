"""Pages of the rights app (URL names ``rights:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.rights import views

app_name = "rights"

urlpatterns: list[URLPattern | URLResolver] = [
    path("rights/", views.market, name="market"),
    path("rights/announcements/<int:pk>/", views.announcement, name="announcement"),
    path("rights/rules/", views.rules_page, name="rules"),
    path("rights/account/", views.account, name="account"),
    path("rights/certificates/", views.right_list, name="right_list"),
    path("rights/certificates/new/", views.right_grant, name="right_grant"),
    path("rights/certificates/<int:pk>/", views.right_detail, name="right_detail"),
    path("rights/certificates/<int:pk>/revoke/", views.right_revoke, name="right_revoke"),
    path("rights/trades/<int:pk>/", views.trade_detail, name="trade_detail"),
    path(
        "rights/trades/<int:pk>/<str:action>/",
        views.trade_action,
        name="trade_action",
    ),
    path("rights/objections/<int:pk>/decide/", views.objection_decide, name="objection_decide"),
    path("rights/approvals/", views.approvals, name="approvals"),
    path("rights/ledger/", views.ledger_page, name="ledger"),
    path("rights/listings/<int:pk>/", views.listing_detail, name="listing_detail"),
    path("rights/listings/<int:pk>/close/", views.listing_close, name="listing_close"),
    path("rights/auctions/new/", views.round_new, name="round_new"),
    path("rights/auctions/<int:pk>/", views.round_detail, name="round_detail"),
    path("rights/auctions/<int:pk>/clear/", views.round_clear, name="round_clear"),
]
