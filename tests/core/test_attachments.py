"""Attachments: checked on the way in, kept as received, served only within the owner's scope."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from PIL import Image

from aquifer.core import attachments
from aquifer.core.attachments import AttachmentError, attach, attachments_of, path_of
from aquifer.core.models import Attachment


def jpeg(size: tuple[int, int] = (8, 6), colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def png(size: tuple[int, int] = (4, 4)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, "PNG")
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture(autouse=True)
def _root(settings: Any, tmp_path: Any) -> None:
    settings.AQUIFER = {**settings.AQUIFER, "ATTACHMENTS": {"ROOT": tmp_path / "files"}}


def test_a_photo_is_kept_under_its_hash_with_its_owner(world: Any) -> None:
    data = jpeg()
    a = attach(world.well_a, data, user=world.accounts["bureau"], name="现场照片.jpg")
    assert (a.mime, a.size, a.name) == ("image/jpeg", len(data), "现场照片.jpg")
    assert path_of(a.sha256).read_bytes() == data
    assert a.owner == world.well_a
    assert a.uploaded_by == world.accounts["bureau"]
    assert list(attachments_of(world.well_a)) == [a]
    assert list(attachments_of(world.well_b)) == []


def test_the_same_bytes_twice_are_stored_once(world: Any) -> None:
    data = png()
    first = attach(world.well_a, data, name="a.png")
    second = attach(world.well_b, data, name="b.png")
    assert first.sha256 == second.sha256 and first.pk != second.pk
    assert len(list(path_of(first.sha256).parent.iterdir())) == 1


def test_the_type_comes_from_the_bytes_not_the_name(world: Any) -> None:
    with pytest.raises(AttachmentError) as refused:
        attach(world.well_a, b"<script>alert(1)</script>", name="photo.jpg", field="photo")
    assert refused.value.field == "photo"
    assert "photo" in refused.value.message_dict
    assert Attachment.objects.count() == 0
    # A PDF named .jpg is a PDF.
    assert attach(world.well_a, PDF, name="scan.jpg").mime == "application/pdf"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "空"),
        (jpeg()[:40], "损坏"),
        (PDF.replace(b"%%EOF", b""), "PDF"),
        (b"GIF89a" + b"\x00" * 40, "类型"),
    ],
    ids=["empty", "truncated-jpeg", "pdf-without-end", "gif"],
)
def test_broken_and_unsupported_files_are_refused(world: Any, data: bytes, words: str) -> None:
    with pytest.raises(AttachmentError) as refused:
        attach(world.well_a, data)
    assert words in refused.value.text
    assert not Attachment.objects.exists()


def test_size_and_pixel_limits(world: Any, settings: Any, tmp_path: Any) -> None:
    settings.AQUIFER = {
        **settings.AQUIFER,
        "ATTACHMENTS": {"ROOT": tmp_path, "MAX_BYTES": 1000, "MAX_PIXELS": 10_000},
    }
    with pytest.raises(AttachmentError, match=r"1000|MB"):
        attach(world.well_a, jpeg() + b"\x00" * 1000)
    with pytest.raises(AttachmentError, match="像素"):
        attach(world.well_a, png((200, 200)))  # 40,000 px: small on the wire, over the limit
    assert attach(world.well_a, png((50, 50))).mime == "image/png"


def test_the_senders_name_loses_paths_and_control_characters(world: Any) -> None:
    a = attach(world.well_a, png(), name="../../etc/pass\x00wd.png")
    assert a.name == "passwd.png"
    assert attach(world.well_a, png(), name="").name == "file.png"


def test_an_attachment_never_changes(world: Any) -> None:
    a = attach(world.well_a, png(), name="a.png")
    a.name = "other.png"
    with pytest.raises(ValidationError):
        a.save()
    with pytest.raises(ValidationError):
        a.delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE core_attachment SET sha256 = %s WHERE id = %s", ["0" * 64, a.pk])
    a.refresh_from_db()
    assert a.name == "a.png"


@pytest.mark.sqlite_only
def test_sqlite_insert_or_replace_cannot_rewrite_a_row(world: Any) -> None:
    a = attach(world.well_a, png(), name="a.png")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute(
            "INSERT OR REPLACE INTO core_attachment (id, content_type_id, object_id, sha256, "
            "size, mime, name, label, uploaded_by_id, uploaded_at) SELECT id, content_type_id, "
            "object_id, sha256, size, mime, 'forged.png', label, uploaded_by_id, uploaded_at "
            "FROM core_attachment WHERE id = %s",
            [a.pk],
        )
    a.refresh_from_db()
    assert a.name == "a.png"


@pytest.mark.parametrize("url", ["/files/{pk}/", "/api/files/{pk}"])
def test_served_only_to_who_may_view_the_owner(world: Any, url: str) -> None:
    data = jpeg()
    mine = attach(world.well_a, data, name="井A.jpg")
    theirs = attach(world.well_b, png(), name="井B.png")
    # The bureau sees both; township A's officer and user A see well A's only.
    for role, expect_b in [("bureau", 200), ("township", 404), ("water_user", 404)]:
        client = world.client(role)
        got = client.get(url.format(pk=mine.pk))
        assert got.status_code == 200, role
        assert got.content == data
        assert got["Content-Type"] == "image/jpeg"
        assert "sandbox" in got["Content-Security-Policy"]
        assert got["X-Content-Type-Options"] == "nosniff"
        assert client.get(url.format(pk=theirs.pk)).status_code == expect_b, role
    for role in ("anonymous", "public"):
        assert world.client(role).get(url.format(pk=mine.pk)).status_code in (401, 404), role
    assert world.client("bureau").get(url.format(pk=999_999)).status_code == 404


def test_bytes_changed_on_disk_are_not_served_as_the_evidence(world: Any) -> None:
    a = attach(world.well_a, png(), name="a.png")
    target = path_of(a.sha256)
    target.chmod(0o640)
    target.write_bytes(png((5, 5)))
    got = world.client("bureau").get(f"/files/{a.pk}/")
    assert got.status_code == 410
    with pytest.raises(OSError):
        attachments.open_bytes(a)


def test_a_caller_may_lower_the_size_limit(world: Any) -> None:
    data = png()
    with pytest.raises(AttachmentError):
        attach(world.well_a, data, max_bytes=len(data) - 1)
    assert attach(world.well_a, data, max_bytes=len(data)).size == len(data)
