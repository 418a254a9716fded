"""A demo county for ``aquifer demo``: zones, water users, wells, devices and demo accounts.

Everything is generated from a seed, record by record (well ``i`` draws from its own random
stream), so building twice leaves exactly the same data and ``--wells 60`` gives the first 60
wells of ``--wells 600``. Records are matched by a natural key (zone and well code, water-user
name, device kind on a well, username) and saved only when something differs, so a second run
creates nothing and adds nothing to the audit trail (only the accounts' passwords are set
again, to the documented demo password).

What is real and what is invented:

- the 15 townships and their codes are real (NBS); their boundaries are approximate (Voronoi
  cells of the seats, from the data migration);
- the Huangcheng Xiangfu (皇城相府) prohibited zones stand where the scenic area is, in 北留镇,
  as the bureau's notice 阳水字〔2022〕100号 says, but their real boundary was not found: the
  demo draws a circle around the scenic area;
- every other zone is illustrative: no Yangcheng overexploited area is known
  (../shared/reference/standards.md §7);
- the villages are those of the county's 2024 well-closure campaign (凤城镇 and 西河乡), but
  which of the two townships each belongs to is not known: they are split between the two;
- enterprises, cooperatives, people, phone numbers, credit codes and devices are invented.

The package, by concept: :mod:`~.county` (codes, places, villages), :mod:`~.identifiers`
(credit codes, device secrets), :mod:`~.accounts`, :mod:`~.zones`, :mod:`~.users`,
:mod:`~.wells` (wells, monitoring records, devices), :mod:`~.tally` (the upserts) and
:mod:`~.build` (:func:`build_demo`). Everything public is imported from here.
"""

from __future__ import annotations

from aquifer.registry.demo.accounts import ACCOUNTS, DEMO_PASSWORD
from aquifer.registry.demo.accounts import DemoAccount as DemoAccount
from aquifer.registry.demo.build import build_demo
from aquifer.registry.demo.county import BAISANG as BAISANG
from aquifer.registry.demo.county import BEILIU as BEILIU
from aquifer.registry.demo.county import CIYING as CIYING
from aquifer.registry.demo.county import CLOSURE_VILLAGES as CLOSURE_VILLAGES
from aquifer.registry.demo.county import COUNTY_CODE as COUNTY_CODE
from aquifer.registry.demo.county import DEMO_SEED, HUANGCHENG_XIANGFU
from aquifer.registry.demo.county import DINGDIAN as DINGDIAN
from aquifer.registry.demo.county import DONGFENG as DONGFENG
from aquifer.registry.demo.county import DONGYE as DONGYE
from aquifer.registry.demo.county import FENGCHENG as FENGCHENG
from aquifer.registry.demo.county import HEBEI as HEBEI
from aquifer.registry.demo.county import HENGHE as HENGHE
from aquifer.registry.demo.county import MANGHE as MANGHE
from aquifer.registry.demo.county import MAX_WELLS as MAX_WELLS
from aquifer.registry.demo.county import NOTICE as NOTICE
from aquifer.registry.demo.county import QINCHI as QINCHI
from aquifer.registry.demo.county import RUNCHENG as RUNCHENG
from aquifer.registry.demo.county import SITOU as SITOU
from aquifer.registry.demo.county import XIHE as XIHE
from aquifer.registry.demo.county import YANLI as YANLI
from aquifer.registry.demo.identifiers import demo_device_secret, organisation_uscc
from aquifer.registry.demo.users import UserSpec as UserSpec
from aquifer.registry.demo.users import user_specs as user_specs
from aquifer.registry.demo.zones import ZoneSpec as ZoneSpec
from aquifer.registry.demo.zones import build_zones, zone_specs

__all__ = [
    "ACCOUNTS",
    "DEMO_PASSWORD",
    "DEMO_SEED",
    "HUANGCHENG_XIANGFU",
    "build_demo",
    "build_zones",
    "demo_device_secret",
    "organisation_uscc",
    "zone_specs",
]
