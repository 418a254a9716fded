"""Admin: the bureau maintains the water resource tax rates and multipliers here (audited)."""

from __future__ import annotations

from django.contrib import admin

from aquifer.accounting.models import TaxMultiplier, TaxRate, WithdrawalMonth


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "water", "use_type", "category", "yuan_per_m3", "taxable_share",
        "exempt_within_quota", "effective_from", "effective_until", "confirmed",
    )  # fmt: skip
    list_filter = ("water", "use_type", "confirmed")


@admin.register(TaxMultiplier)
class TaxMultiplierAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("kind", "above_pct", "factor", "effective_from", "effective_until", "confirmed")
    list_filter = ("kind", "confirmed")


@admin.register(WithdrawalMonth)
class WithdrawalMonthAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Computed figures: read-only (recompute with the refresh job or the API)."""

    list_display = ("well", "year", "month", "metered_m3", "estimated_m3", "flags", "computed_at")
    list_filter = ("year", "month")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
