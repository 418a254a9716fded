"""Who sees which withdrawal and tax figures (docs/accounting.md, "Scoping")."""

from __future__ import annotations

from aquifer.accounting.models import TaxMultiplier, TaxRate, WithdrawalMonth
from aquifer.core.policies import ALL, SIGNED_IN, Role, capability, model_policy, routes

model_policy(WithdrawalMonth)
#: The tax schedule is read by those who assess or pay the tax (bureau, township officers,
#: water users), as the tax estimates; inspectors enforce permits, not the tax.
_TAX_READERS = {Role.BUREAU: ALL, Role.TOWNSHIP: ALL, Role.WATER_USER: ALL}
for _model in (TaxRate, TaxMultiplier):
    model_policy(_model, view=_TAX_READERS)

#: Withdrawal totals of townships and the county, by year: everyone (R5.1).
capability("accounting.withdrawals", *Role)
#: Every level (well, user, zone, township, county), monthly too: bureau, inspectors, townships.
capability("accounting.all_levels", Role.BUREAU, Role.INSPECTOR, Role.TOWNSHIP)
#: A water user's own wells and itself (monthly), township and county totals (annual).
capability("accounting.own_levels", Role.WATER_USER)
#: Single wells' figures county-wide, without a scope filter: bureau and inspectors.
capability("accounting.all_wells", Role.BUREAU, Role.INSPECTOR)
#: One well's figures: signed in (and the well visible).
capability("accounting.well_figures", *SIGNED_IN)
capability("accounting.tax_report", Role.BUREAU, Role.TOWNSHIP, Role.WATER_USER)
capability("accounting.refresh", Role.BUREAU)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("accounting.morning", Role.BUREAU, Role.TOWNSHIP)  # this month against last year
capability("accounting.morning_own", Role.WATER_USER)  # its own month

routes(
    {
        "accounting:withdrawals": "accounting.withdrawals",
        "accounting:tax": "accounting.tax_report",
        "accounting:rates": ("accounting.taxrate", "view"),
        "accounting_withdrawals": "accounting.withdrawals",
        "accounting_well_withdrawals": ("registry.well", "view"),
        "accounting_tax": "accounting.tax_report",
        "accounting_tax_rates": ("accounting.taxrate", "view"),
        "accounting_refresh": "accounting.refresh",
    }
)
