"""The permit rule engine: every permit decision, quota change and well activation, checked.

Pure functions over plain data (no Django). :func:`check` answers whether a :class:`Change`
may be made to a county whose permitted volumes are a :class:`CountyState`, under a
:class:`RuleSet`; the :class:`Decision` carries *every* reason for a refusal, each with the
rule's id and its sources (document and article). :func:`apply` returns the state after an
allowed change. Sources, from ../shared/reference/standards.md §3–§4 and the charter:

- 地下水管理条例 (State Council Decree 748, 2021) art. 15 (reserve), 17 and 20 (total
  control), 35 (prohibited and restricted areas and the prohibited area's three exceptions);
- 取水许可和水资源费征收管理条例 (Decree 460, amended 2017) art. 20(1)(2) (refusal in a
  prohibited zone, or where the total is used up), 24 (licence contents), 25 (term: usually
  5 years, at most 10), 27 (transfer within the term and volume);
- the MWR notice suspending new permits in the Yellow River basin's overloaded areas, cited by
  the charter as 水资管〔2020〕380号 — the number is unconfirmed, the content confirmed;
- 阳水字〔2022〕100号 (the charter), quoting 晋政办发〔2015〕123号: balanced zones take no new
  abstraction; the Huangcheng Xiangfu prohibited zone; deep groundwater as the emergency and
  strategic reserve.

Every rule is data (:class:`Rule`, inside :class:`RuleSet`): enabled or not, the change kinds
it applies to, its exemptions, its text in Chinese and English and its sources, each marked
confirmed or not. ``RuleSet.to_dict`` / ``RuleSet.from_dict`` round-trip through JSON.

Model. Volumes are whole m³ per year. A permit draws on one source (shallow or deep
groundwater, or surface water) at one location: its township and, for groundwater, the one
zone of its layer that holds its wells (the registry ranks overlapping zones by
``ZONE_PRECEDENCE``, so a well has one zone per layer). Zone totals count groundwater permits
of the zone's layer; township and county totals count the sources in ``RuleSet.capped_sources``
(groundwater by default, the 双控 total of art. 17). A transfer moves volume from one permit to
another (existing or created by it), as a water-rights trade does (permit regulations art. 27).

One module per concept: :mod:`~.vocabulary` (change kinds, sources, zone kinds, flags, rule
ids), :mod:`~.sources` (the documents and articles cited), :mod:`~.ruleset` (the rules and
their settings, ``to_dict`` / ``from_dict``), :mod:`~.state` (changes and the county's state),
:mod:`~.decisions` (decisions and reasons), :mod:`~.effects` (a change's effect on the totals),
:mod:`~.checks` (the checks per rule family) and :mod:`~.engine` (:func:`check`,
:func:`apply`). Everything public is imported from here.
"""

from __future__ import annotations

from aquifer.permits.rules.decisions import Decision, Reason, RefusedChange
from aquifer.permits.rules.engine import apply, check
from aquifer.permits.rules.ruleset import (
    DEFAULT_RULES,
    SCHEMA_VERSION,
    Exemption,
    Rule,
    RuleSet,
    default_rules,
)
from aquifer.permits.rules.sources import CHARTER as CHARTER
from aquifer.permits.rules.sources import CHARTER_DEEP as CHARTER_DEEP
from aquifer.permits.rules.sources import GW_REG_15 as GW_REG_15
from aquifer.permits.rules.sources import GW_REG_17 as GW_REG_17
from aquifer.permits.rules.sources import GW_REG_20 as GW_REG_20
from aquifer.permits.rules.sources import GW_REG_35 as GW_REG_35
from aquifer.permits.rules.sources import PERMIT_REG_20_1 as PERMIT_REG_20_1
from aquifer.permits.rules.sources import PERMIT_REG_20_2 as PERMIT_REG_20_2
from aquifer.permits.rules.sources import PERMIT_REG_24 as PERMIT_REG_24
from aquifer.permits.rules.sources import PERMIT_REG_25 as PERMIT_REG_25
from aquifer.permits.rules.sources import PERMIT_REG_27 as PERMIT_REG_27
from aquifer.permits.rules.sources import SHANXI_2015 as SHANXI_2015
from aquifer.permits.rules.sources import YR_NOTICE as YR_NOTICE
from aquifer.permits.rules.sources import YR_SHANXI as YR_SHANXI
from aquifer.permits.rules.sources import SourceRef
from aquifer.permits.rules.state import (
    Change,
    CountyState,
    EmergencyWindow,
    PermitRecord,
    ZoneRef,
    state_from_permits,
)
from aquifer.permits.rules.vocabulary import REGISTER, ChangeKind, Flag, RuleId, Source, ZoneKind

__all__ = [
    "DEFAULT_RULES",
    "REGISTER",
    "SCHEMA_VERSION",
    "Change",
    "ChangeKind",
    "CountyState",
    "Decision",
    "EmergencyWindow",
    "Exemption",
    "Flag",
    "PermitRecord",
    "Reason",
    "RefusedChange",
    "Rule",
    "RuleId",
    "RuleSet",
    "Source",
    "SourceRef",
    "ZoneKind",
    "ZoneRef",
    "apply",
    "check",
    "default_rules",
    "state_from_permits",
]
