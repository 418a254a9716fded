"""Water resource tax estimate (水资源税) — pure: no Django; mypy --strict.

The rules (../shared/reference/standards.md §5; the bureau's copy of rates and multipliers is
in the ``TaxRate`` / ``TaxMultiplier`` tables, with effective dates, sources and whether each is
confirmed):

* tax = taxable volume × the rate of the user's use type (元/m³) in force on the period's end;
* taxable volume = withdrawal × ``taxable_share`` (public supply: 1 − 9 % allowable network
  loss, §5.2);
* volume within the permit quota is exempt where the rate says so (agriculture within the quota,
  2017 framework, §5.4 [U]);
* volume above the quota is taxed at the rate × the over-quota factor of the tier the overrun
  reaches (≤ 20 % → 2, 20–40 % → 2.5, > 40 % → 3: §5.2, [U], low confidence). The overrun is
  measured on the user's whole withdrawal against the user's quota for the period (the annual
  quota prorated by days for shorter periods) and shared among the wells by volume;
* a well in an overexploited zone multiplies its rate by the zone factor (2×; 3× seriously
  overexploited: 2017 pilot §5.3; whether 2024 keeps them is [U]). Both factors multiply.
* a user with no active permit has no quota: the whole volume is taxed at the base rate (× zone
  factor) and the estimate says that unapproved withdrawal carries a multiple whose value the
  source truncates (§5.2 [U]) — it is not applied.

Money is :class:`decimal.Decimal`, rounded to the fen (0.01 元) at the end of each line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["TaxEstimate", "TaxLine", "TaxRule", "WellWithdrawal", "estimate", "over_quota_factor"]

_FEN = Decimal("0.01")
_M3 = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class WellWithdrawal:
    """One well's withdrawal in the period and the kind of zone it lies in."""

    well_id: int
    volume_m3: float
    zone_kind: str | None = None


@dataclass(frozen=True, slots=True)
class TaxRule:
    """The rate and multipliers in force for one use type on one date."""

    rate: Decimal  # 元/m³
    taxable_share: Decimal = Decimal(1)
    exempt_within_quota: bool = False
    zone_factors: Mapping[str, Decimal] = field(default_factory=dict)
    #: (above_pct, factor): the factor applies when the overrun exceeds above_pct percent.
    over_quota_tiers: Sequence[tuple[Decimal, Decimal]] = ()
    confirmed: bool = True


@dataclass(frozen=True, slots=True)
class TaxLine:
    """One line of the estimate: a volume, its rate and factor, and the amount."""

    label: str
    volume_m3: Decimal
    rate: Decimal
    factor: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TaxEstimate:
    volume_m3: Decimal
    taxable_m3: Decimal
    quota_m3: Decimal | None
    over_quota_m3: Decimal
    lines: tuple[TaxLine, ...]
    amount: Decimal
    notes: tuple[str, ...]


def _d(x: float | Decimal) -> Decimal:
    return Decimal(str(x)) if not isinstance(x, Decimal) else x


def over_quota_factor(
    volume_m3: Decimal, quota_m3: Decimal, tiers: Sequence[tuple[Decimal, Decimal]]
) -> Decimal:
    """The factor of the highest tier the overrun reaches (1 within the quota)."""
    if volume_m3 <= quota_m3:
        return Decimal(1)
    pct = Decimal("Infinity") if quota_m3 <= 0 else (volume_m3 - quota_m3) / quota_m3 * 100
    factor = Decimal(1)
    for above, f in sorted(tiers):
        if pct > above:
            factor = f
    return factor


def estimate(
    wells: Sequence[WellWithdrawal], quota_m3: float | Decimal | None, rule: TaxRule
) -> TaxEstimate:
    """The tax estimate of one user for one period (see the module docstring)."""
    if rule.rate < 0 or not Decimal(0) <= rule.taxable_share <= 1:
        raise ValueError("rate must be non-negative and taxable_share within 0..1")
    if any(w.volume_m3 < 0 for w in wells):
        raise ValueError("volumes must be non-negative")
    total = sum((_d(w.volume_m3) for w in wells), Decimal(0))
    quota = None if quota_m3 is None else _d(quota_m3)
    notes: list[str] = []
    if quota is None:
        over = Decimal(0)
        factor = Decimal(1)
        notes.append("no_permit")
    else:
        over = max(total - quota, Decimal(0))
        factor = over_quota_factor(total, quota, rule.over_quota_tiers)
    within_share = (total - over) / total if total > 0 else Decimal(1)
    within_taxed = not (rule.exempt_within_quota and quota is not None)
    # Group wells by zone factor.
    by_factor: dict[Decimal, Decimal] = {}
    for w in wells:
        zf = rule.zone_factors.get(w.zone_kind or "", Decimal(1))
        by_factor[zf] = by_factor.get(zf, Decimal(0)) + _d(w.volume_m3)
    lines: list[TaxLine] = []
    for zf, vol in sorted(by_factor.items()):
        taxable = vol * rule.taxable_share
        within = taxable * within_share
        above = taxable - within
        zone_label = "" if zf == 1 else "overexploited_zone"
        if within > 0:
            f = zf if within_taxed else Decimal(0)
            label = "within_quota" if quota is not None else "no_quota"
            lines.append(_line(label, zone_label, within, rule.rate, f))
        if above > 0:
            lines.append(_line("over_quota", zone_label, above, rule.rate, zf * factor))
    if not rule.confirmed:
        notes.append("unconfirmed_rate")
    if rule.exempt_within_quota and quota is not None:
        notes.append("exempt_within_quota")
    amount = sum((ln.amount for ln in lines), Decimal(0))
    return TaxEstimate(
        volume_m3=total.quantize(_M3, ROUND_HALF_UP),
        taxable_m3=(total * rule.taxable_share).quantize(_M3, ROUND_HALF_UP),
        quota_m3=quota,
        over_quota_m3=over.quantize(_M3, ROUND_HALF_UP),
        lines=tuple(lines),
        amount=amount,
        notes=tuple(notes),
    )


def _line(label: str, zone: str, volume: Decimal, rate: Decimal, factor: Decimal) -> TaxLine:
    amount = (volume * rate * factor).quantize(_FEN, ROUND_HALF_UP)
    full = f"{label}+{zone}" if zone else label
    return TaxLine(full, volume.quantize(_M3, ROUND_HALF_UP), rate, factor, amount)
