"""EPRX primary frequency control (FCR): block calendar, block price forecast, offers and
awards, cancellation, and the backtest of energy + FCR (issue 19). The capacity itself is
planned by the one dispatch model (:mod:`optimizer.model`) from a :class:`~.market.FcrMarket`.
"""
