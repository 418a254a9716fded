"""Pages of the accounting app (URL names ``accounting:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from aquifer.accounting import views

app_name = "accounting"

urlpatterns: list[URLPattern | URLResolver] = [
    path("accounting/", views.withdrawals, name="withdrawals"),
    path("accounting/tax/", views.tax, name="tax"),
    path("accounting/tax/rates/", views.rates, name="rates"),
]
