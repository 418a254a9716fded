"""The tables the store writes, and the SQL both backends share."""

from __future__ import annotations

from aquifer.telemetry.models import (
    Reading,
    ReadingDaily,
    ReadingFlag,
    ReadingHourly,
    RollupWatermark,
)

_REJECTED = int(ReadingFlag.REJECTED)
_READING = Reading._meta.db_table
_HOURLY = ReadingHourly._meta.db_table
_DAILY = ReadingDaily._meta.db_table
_WATERMARK = RollupWatermark._meta.db_table
_MAX_ID = f"SELECT coalesce(max(id), 0) FROM {_READING}"
_ROLLUP_COLS = (
    'device_id, element, bucket, "n", "min", "max", "sum", "first", "last", first_at, last_at'
)


def _merge_sql(table: str) -> str:
    """``ON CONFLICT`` clause merging a new partial aggregate (``excluded``) into a stored row."""
    t = table
    return (
        "ON CONFLICT (device_id, element, bucket) DO UPDATE SET "
        f'"n" = {t}."n" + excluded."n", '
        f'"min" = CASE WHEN excluded."min" < {t}."min" THEN excluded."min" ELSE {t}."min" END, '
        f'"max" = CASE WHEN excluded."max" > {t}."max" THEN excluded."max" ELSE {t}."max" END, '
        f'"sum" = {t}."sum" + excluded."sum", '
        f'"first" = CASE WHEN excluded.first_at < {t}.first_at '
        f'THEN excluded."first" ELSE {t}."first" END, '
        f"first_at = CASE WHEN excluded.first_at < {t}.first_at "
        f"THEN excluded.first_at ELSE {t}.first_at END, "
        f'"last" = CASE WHEN excluded.last_at > {t}.last_at '
        f'THEN excluded."last" ELSE {t}."last" END, '
        f"last_at = CASE WHEN excluded.last_at > {t}.last_at "
        f"THEN excluded.last_at ELSE {t}.last_at END"
    )
