"""Real HTTP clients (frost-sta-client, OWSLib) against the test database, in process.

Both clients call ``requests``; a transport adapter hands each request to Django's test client
inside the test's transaction (a live server thread would need a flushed transactional
database, which the append-only audit triggers refuse: docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import Client
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

BASE = "http://testserver"


class DjangoAdapter(BaseAdapter):
    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client

    def send(self, request: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        path = request.url[len(BASE) :]
        headers = {}
        if "Authorization" in request.headers:
            headers["HTTP_AUTHORIZATION"] = request.headers["Authorization"]
        answer = self.client.generic(request.method, path, **headers)
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers = CaseInsensitiveDict(dict(answer.items()))
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch) -> Iterator[requests.Session]:
    """``requests`` answered by this process's Django (anonymous unless a header says)."""
    session = requests.Session()
    session.mount(BASE, DjangoAdapter(Client()))
    monkeypatch.setattr(requests, "request", session.request)
    monkeypatch.setattr(requests, "get", session.get)
    yield session
