"""Water rights: initial rights (确权), trades (negotiated, listings, auctions) and their life.

Every function here changes the ledger through :mod:`aquifer.rights.ledger` and audits what it
does (``core.audit.record``). The order of a trade's life:

1. proposed (negotiated, a listing award, or an auction fill): the rules are checked
   (:mod:`aquifer.rights.market_rules`) and the seller's volume is *held* (moved to the
   seller's held account, year by year), so it cannot be sold twice;
2. approved by the bureau (irrigation trades of ≤ 1 year skip this, a setting), which opens
   the public announcement (公示, ``ANNOUNCEMENT_DAYS``), open to objections;
3. completed after the announcement with no objection open or upheld: the held volume goes to
   the buyer and both permits' quotas change through ``aquifer.permits.services.change_quota``
   (interface 5). If the permits' rule engine refuses, the trade fails with its reasons and
   the volume goes back to the seller. Rejection, an upheld objection or cancellation also
   return it.

One module per workflow: :mod:`~.initial` (确权), :mod:`~.trades` (proposal, approval),
:mod:`~.announcements` (公示, objections, completion), :mod:`~.listings` (挂牌),
:mod:`~.auctions`; :mod:`~.parties` (holders, lots, holds) and :mod:`~.common` (refusals,
input checks, the rules in force) beside them. Everything public is imported from here.
"""

from __future__ import annotations

from aquifer.rights.services.announcements import (
    complete,
    complete_due,
    decide_objection,
    file_objection,
    revert_leases,
)
from aquifer.rights.services.auctions import clear_round, open_round, submit_order
from aquifer.rights.services.common import FIRST_YEAR as FIRST_YEAR
from aquifer.rights.services.common import LAST_YEAR as LAST_YEAR
from aquifer.rights.services.common import MAX_PRICE as MAX_PRICE
from aquifer.rights.services.common import MAX_VOLUME_M3 as MAX_VOLUME_M3
from aquifer.rights.services.common import MarketError, rules
from aquifer.rights.services.common import this_year as this_year
from aquifer.rights.services.initial import grant_right, holder_balances, revoke_right
from aquifer.rights.services.listings import close_listing, create_listing, place_bid
from aquifer.rights.services.parties import holder_use_type as holder_use_type
from aquifer.rights.services.parties import used_m3
from aquifer.rights.services.trades import approve, cancel, propose_trade, reject

__all__ = [
    "MarketError",
    "approve",
    "cancel",
    "clear_round",
    "close_listing",
    "complete",
    "complete_due",
    "create_listing",
    "decide_objection",
    "file_objection",
    "grant_right",
    "holder_balances",
    "open_round",
    "place_bid",
    "propose_trade",
    "reject",
    "revert_leases",
    "revoke_right",
    "rules",
    "submit_order",
    "used_m3",
]
