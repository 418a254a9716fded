"""The console log (settings.LOGGING): a routine 4xx is one line, a 5xx keeps its traceback."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest

FORMAT = logging.Formatter("%(levelname)s %(name)s %(message)s")


def _request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_refused_page_is_one_line_on_the_console(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The view raises PermissionDenied; Django logs it with the exception attached.
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert world.client("inspector").get("/notifications/rules/").status_code == 403
    (record,) = _request_records(caplog)
    assert record.status_code == 403  # type: ignore[attr-defined]
    assert record.exc_info is None
    assert FORMAT.format(record) == (
        "WARNING django.request Forbidden (Permission denied): /notifications/rules/"
    )


def test_a_missing_page_is_one_line(world: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert world.client("bureau").get("/registry/wells/99999999/").status_code == 404
    records = _request_records(caplog)
    assert records and all("\n" not in FORMAT.format(r) for r in records)


def test_a_server_error_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc = sys.exc_info()
    logger = logging.getLogger("django.request")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        # As django.utils.log.log_response logs them.
        logger.error("Internal Server Error: %s", "/x", exc_info=exc, extra={"status_code": 500})
        logger.warning("Forbidden: %s", "/y", exc_info=exc, extra={"status_code": 403})
    error, refused = _request_records(caplog)
    assert error.exc_info is exc
    assert "Traceback" in FORMAT.format(error) and "RuntimeError: boom" in FORMAT.format(error)
    assert refused.exc_info is None and FORMAT.format(refused).count("\n") == 0
