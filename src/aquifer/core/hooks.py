"""Declared hooks: how a lower layer learns of a higher one without importing it.

The apps form layers (docs/architecture.md, "Layers"): an app imports only from the apps
below it. Where a lower app must ask something that only a higher app knows — the registry
asks whether a well may be put into service (the permits rule engine answers), the gateway
reports a device's status bits (monitoring raises alarms), accounting asks for the permitted
quotas behind an unmetered estimate (permits knows them) — the lower app declares a
:class:`Hook` in its ``hooks.py``, and the higher app registers its function there in its
``AppConfig.ready()``. The lower app calls the hook and works with what it gets, including
nothing: a hook nobody answers returns an empty list.

Unlike a Django signal, a hook is typed by what its functions return, keeps the order of
registration, registers a function once however often ``ready()`` runs, and lets an
exception through (a failing rule must not pass silently as "no objection").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Hook"]

R = TypeVar("R")


class Hook(Generic[R]):
    """An extension point named ``name`` whose functions return ``R``."""

    def __init__(self, name: str, doc: str = "") -> None:
        self.name = name
        self.__doc__ = doc
        self._functions: list[Callable[..., R]] = []

    def register(self, fn: Callable[..., R]) -> Callable[..., R]:
        """Add ``fn`` (once); usable as a decorator."""
        if fn not in self._functions:
            self._functions.append(fn)
        return fn

    def unregister(self, fn: Callable[..., R]) -> None:
        if fn in self._functions:
            self._functions.remove(fn)

    @property
    def functions(self) -> tuple[Callable[..., R], ...]:
        return tuple(self._functions)

    def __call__(self, *args: Any, **kwargs: Any) -> list[R]:
        """Every registered function's answer, in the order they registered."""
        return [fn(*args, **kwargs) for fn in self._functions]

    def __repr__(self) -> str:
        names = ", ".join(getattr(f, "__qualname__", repr(f)) for f in self._functions)
        return f"<Hook {self.name}: {names or 'none'}>"
