"""The policy gate of the API: every operation asks the policy its operation id is linked to
(:func:`aquifer.core.policies.route_allows`) before its code runs, so an operation cannot
forget the check. Refused: 403, or 401 for an anonymous caller (``aquifer.api.errors``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.operation import Operation

from aquifer.core.policies import route_allows

__all__ = ["gate"]


def _guard(key: str, on_object: bool, view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not route_allows(request.user, key, on_object):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


def gate(api: NinjaAPI) -> None:
    """Wrap every operation of ``api`` in the policy check (once, when the API is built)."""
    for _prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                _gate_operation(api, operation, "{" in path)


def _gate_operation(api: NinjaAPI, operation: Operation, on_object: bool) -> None:
    key = operation.operation_id or api.get_openapi_operation_id(operation)
    operation.view_func = _guard(key, on_object, operation.view_func)
