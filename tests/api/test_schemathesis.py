"""Schemathesis runs the whole OpenAPI document, every operation, as each role.

The requests go in-process, through Django's WSGI application, inside the test's transaction
(on SQLite in the first test pass, on PostgreSQL in the second). A case fails on a 5xx or on
a response that breaks the document's own schema. Examples are few per operation
(:data:`EXAMPLES`), so that a role's pass stays within its share of the time budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

#: Generated examples per operation and role.
EXAMPLES = 2
ROLES = ["bureau", "township", "water_user", "inspector", "anonymous"]


@pytest.fixture
def schema(db: Any) -> Iterator[Any]:
    """The document, loaded from the application; requests keep the test's connection (as
    Django's test client does: the handler would otherwise close it after each request)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_as(world: Any, schema: Any, role: str) -> None:
    from aquifer.core.models import ApiToken

    headers = {}
    if role != "anonymous":
        _token, key = ApiToken.issue(world.accounts[role], "schemathesis")
        headers["Authorization"] = f"Bearer {key}"
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if "DeviceAuth" in str(operation.definition.raw.get("security", "")):
            continue  # a device's route: tests/telemetry cover it

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            try:
                response = case.call_and_validate(
                    headers=headers, checks=[not_a_server_error, response_schema_conformance]
                )
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            except Exception as exc:
                failures.append(f"{case.method} {case.path}: {exc}"[:2000])
                raise

        try:
            run()
        except BaseException as exc:  # schemathesis' failure group; recorded above
            if not failures or isinstance(exc, KeyboardInterrupt):
                raise
    assert not failures, "\n\n".join(failures)
    assert sum(statuses.values()) > 100 and statuses.get(200), statuses  # it did run
