"""Forwarding upward: selected devices' frames, exactly as received, to the provincial (or any
higher) platform, from a durable outbox in the database (docs/open-data.md, "Forwarding").

``frames`` (pure: the station address rewritten where mapped, the reply that acknowledges a
frame), ``outbox`` (enqueue in the gateway's commit path, status per destination), and
``forwarder`` (the ``aquifer forward`` loop: at least once, in order per station, retried with
back-off).
"""
