"""Who may do what in the water-rights market ("Roles and scoping")."""

from __future__ import annotations

from aquifer.core.policies import STAFF, Role, capability, model_policy, routes, when
from aquifer.rights.models import (
    Account,
    AuctionOrder,
    AuctionRound,
    Bid,
    Entry,
    Journal,
    Listing,
    MarketSettings,
    Objection,
    TradeParty,
    WaterRight,
)

for _model in (Account, AuctionOrder, AuctionRound, Bid, Entry, Listing, TradeParty, WaterRight):
    model_policy(_model)
# The ledger's journal, the market's settings and objections to announced trades: the
# bureau's records (objections are filed through the trade actions, decided by rights.manage).
for _bureau_only in (Journal, MarketSettings, Objection):
    model_policy(_bureau_only)

#: Approvals, the ledger, grants and revocations, clearing auctions, deciding objections;
#: every trade (not only those one is a party to); the parties' full names.
capability("rights.manage", Role.BUREAU)
#: Trading: a water user for itself, a township officer for its township.
capability(
    "rights.trade",
    water_user=when(lambda u: bool(u.water_user_id)),
    township=when(lambda u: bool(u.township_id)),
)
#: The market's internal totals and settings.
capability("rights.internal", *STAFF)
capability("rights.market", *Role)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("rights.morning_own", Role.WATER_USER)  # its trades

routes(
    {
        "rights:market": "rights.market",
        "rights:announcement": "rights.market",
        "rights:rules": "rights.market",
        "rights:account": "rights.trade",
        "rights:right_list": ("rights.waterright", "view"),  # filtered; the public: none
        "rights:right_grant": "rights.manage",
        "rights:right_detail": ("rights.waterright", "view"),
        "rights:right_revoke": "rights.manage",
        "rights:trade_detail": ("rights.tradeparty", "view"),
        "rights:trade_action": ("rights.tradeparty", "view"),
        "rights:objection_decide": "rights.manage",
        "rights:approvals": "rights.manage",
        "rights:ledger": "rights.manage",
        "rights:listing_detail": ("rights.listing", "view"),
        "rights:listing_close": ("rights.listing", "view"),
        "rights:round_new": "rights.manage",
        "rights:round_detail": ("rights.auctionround", "view"),
        "rights:round_clear": "rights.manage",
        "rights_public": "rights.market",
        "rights_prices": "rights.market",
        "rights_rules": "rights.market",
        "rights_accounts": ("rights.account", "view"),
        "rights_certificates": ("rights.waterright", "view"),
        "rights_grant": "rights.manage",
        "rights_trades": ("rights.tradeparty", "view"),
        "rights_trade_create": "rights.trade",
        "rights_trade": ("rights.tradeparty", "view"),
        "rights_trade_action": ("rights.tradeparty", "view"),
        "rights_listings": ("rights.listing", "view"),
        "rights_listing_create": "rights.trade",
        "rights_bid": "rights.trade",
        "rights_bids": ("rights.bid", "view"),
        "rights_ledger_audit": "rights.manage",
    }
)
