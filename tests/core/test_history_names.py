"""The change history names referenced records: `乡镇: 凤城镇 → 北留镇`, not `— → 2`."""

from __future__ import annotations

from typing import Any

import pytest

from aquifer.core.audit import audit_context
from aquifer.core.models import AuditEntry
from aquifer.registry.models import WaterUser

pytestmark = pytest.mark.django_db


def changes_of(page: str, field: str) -> str:
    start = page.index(f'data-field="{field}"')
    return page[start : page.index("</li>", start)]


def test_history_shows_names_of_referenced_records(world: Any) -> None:
    well = world.well_a
    gone = WaterUser.objects.create(
        name="已注销用户", use_type="domestic", township=world.township_a
    )
    gone_pk = gone.pk
    with audit_context(source="test"):
        well.owner = gone
        well.save()
        well.owner = world.user_b
        well.save()
    gone.delete()
    page = world.client("bureau").get(well.get_absolute_url()).content.decode()
    entry = AuditEntry.objects.filter(object_type="registry.well", object_id=str(well.pk)).first()
    assert entry is not None and "owner_id" in entry.changes
    owner = changes_of(page, "owner_id")
    assert "北留农业合作社" in owner  # the new owner by name
    assert f"#{gone_pk}（已删除）" in owner  # the old one, since deleted
    assert f">{world.user_b.pk}<" not in owner
    town = changes_of(page, "township_id")  # the well's creation: — → its township
    assert '<span class="new">凤城镇</span>' in town


def test_audit_page_shows_names_too(world: Any) -> None:
    with audit_context(source="test"):
        world.well_a.owner = world.user_b
        world.well_a.save()
    page = world.client("bureau").get("/audit/?object_type=registry.well").content.decode()
    assert "北留农业合作社" in changes_of(page, "owner_id")


def _audit_page(world: Any, lang: str, query: str = "") -> str:
    from django.conf import settings

    c = world.client("bureau")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return c.get("/audit/" + query).content.decode()


def test_the_trail_names_a_record_in_the_readers_language(world: Any) -> None:
    """A record's name is kept in the default language and shown as it reads now in the
    reader's (issue 14 point 13): a device named by its kind reads "Flow meter …" in English."""
    from django.utils import translation

    from aquifer.registry.models import Device

    device = world.device_a
    with translation.override("en"), audit_context(source="test"):
        device.manufacturer = "checked"
        device.save()  # a change made from an English page
    entry = AuditEntry.objects.filter(object_type="registry.device", object_id=str(device.pk))[0]
    with translation.override("zh-hans"):
        assert entry.object_repr == str(device)  # recorded in the default language
    query = "?object_type=registry.device"
    with translation.override("en"):
        assert str(device) in _audit_page(world, "en", query)
    with translation.override("zh-hans"):
        assert str(device) in _audit_page(world, "zh-hans", query)
    # A deleted record keeps the name it was recorded with.
    gone = WaterUser.objects.create(name="将删除", use_type="domestic", township=world.township_a)
    with audit_context(source="test"):
        gone.delete()
    assert "将删除" in _audit_page(world, "en", "?object_type=registry.wateruser")
    assert Device.objects.filter(pk=device.pk).exists()
