"""REST API of the analysis app.

Do not add ``from __future__ import annotations`` (django-ninja reads these annotations).
"""

from ninja import Router

router = Router(tags=["analysis"])
