"""Upserts by natural key that save only what differs, counted per model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db import models


class _Tally:
    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()

    def upsert(
        self,
        model: type[models.Model],
        existing: models.Model | None,
        key: dict[str, Any],
        values: dict[str, Any],
        before_save: Callable[[Any], None] | None = None,
    ) -> Any:
        """Create the record, or update the fields that differ; save only if needed."""
        name = model._meta.model_name or model.__name__
        if existing is None:
            obj = model(**key, **values)
            if before_save:
                before_save(obj)
            obj.save()
            self.created[name] += 1
            return obj
        changed = [k for k, v in values.items() if getattr(existing, k) != v]
        if changed:
            for k in changed:
                setattr(existing, k, values[k])
            if before_save:
                before_save(existing)
            existing.save()
            self.updated[name] += 1
        return existing
