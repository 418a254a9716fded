"""Logging filters for the operator's console (``settings.LOGGING``).

Django's ``django.request`` logger reports every 4xx response, and for a view that raised
``PermissionDenied``, ``Http404`` or ``BadRequest`` it attaches the exception, so a routine
refusal printed a whole traceback on the ``aquifer serve`` / ``aquifer demo`` console.
:class:`OneLineClientErrors` keeps such records to their one message line ("Forbidden: /path")
and leaves server errors (5xx, and any record without a status below 500) as they are, with
their traceback.
"""

from __future__ import annotations

import logging


class OneLineClientErrors(logging.Filter):
    """Drop the traceback of a record about a 4xx response; keep everything else intact."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True
