"""Attachments: photos, scans and PDFs kept with a record (docs/architecture.md, "Attachments").

Any app attaches a file to any of its records with :func:`attach`; the bytes are checked
(size, type sniffed from the content, images decoded, PDFs whole), stored once under their
SHA-256 in ``AQUIFER["ATTACHMENTS"]["ROOT"]`` and described by a :class:`~aquifer.core.models.
Attachment` row that names its owner. Neither the row nor the bytes ever change: the row is
refused an UPDATE by the database, and a file is written once, by content, so that the
recorded hash is the proof of what was received.

A file is served (``/files/<pk>/``, ``GET /api/files/{id}``) only to a user who may view its
owner (:func:`aquifer.core.scoping.can`); to anyone else it does not exist (404).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import filetype
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from PIL import Image

from aquifer.core.models import Attachment
from aquifer.core.scoping import can

__all__ = [
    "AttachmentError",
    "attach",
    "attachments_of",
    "conf",
    "open_bytes",
    "path_of",
    "serve",
    "sniff",
    "visible",
]

#: What an attachment may be, by the type its bytes show (not the name or the sender's word).
DEFAULT_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
DEFAULTS: dict[str, Any] = {
    # Where the bytes live (content-addressed: ab/abcdef…). Default: DATA_DIR/attachments.
    "ROOT": None,
    # A phone photo is 2–8 MB; a scanned multi-page PDF rarely more. Our choice, not a rule.
    "MAX_BYTES": 20 * 1024 * 1024,
    "TYPES": DEFAULT_TYPES,
    # An image larger than this many pixels is refused (a decompression bomb is small on the
    # wire and gigabytes in memory). 100 megapixels is above any phone camera.
    "MAX_PIXELS": 100_000_000,
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AttachmentError(ValidationError):
    """A file refused, with the form or API field it came in: the API answers it as a 400
    naming the field (api/errors.py), a form adds it to that field."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__({field: [message]})
        self.field = field
        self.text = message


def conf() -> dict[str, Any]:
    merged = {**DEFAULTS, **getattr(settings, "AQUIFER", {}).get("ATTACHMENTS", {})}
    if not merged["ROOT"]:
        merged["ROOT"] = Path(settings.DATA_DIR) / "attachments"
    merged["ROOT"] = Path(merged["ROOT"])
    return merged


@dataclass(frozen=True)
class Sniffed:
    mime: str
    extension: str


def sniff(data: bytes, field: str = "file") -> Sniffed:
    """The type the bytes show, checked whole: an image must decode, a PDF must end."""
    allowed = conf()["TYPES"]
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in allowed:
        raise AttachmentError(_("文件类型不受支持（仅接受 JPEG、PNG、WebP 图片和 PDF）。"), field)
    if kind.mime.startswith("image/"):
        _check_image(data, field)
    elif kind.mime == "application/pdf" and b"%%EOF" not in data[-2048:]:
        raise AttachmentError(_("PDF 文件不完整（缺少文件结尾）。"), field)
    return Sniffed(kind.mime, kind.extension)


def _check_image(data: bytes, field: str) -> None:
    limit = conf()["MAX_PIXELS"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > limit:
                    raise AttachmentError(_("图片像素过多。"), field)
                image.verify()
    except AttachmentError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise AttachmentError(_("图片像素过多。"), field) from None
    except Exception:  # any decoder failure means a broken image
        raise AttachmentError(_("图片文件已损坏，无法读取。"), field) from None


def clean_name(name: str, extension: str) -> str:
    """The sender's file name as a label: no path, no control characters, at most 200."""
    base = os.path.basename(name.replace("\\", "/"))
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).strip(" .")
    if not base:
        base = f"file.{extension}"
    return base[-200:]


def _read(upload: IO[bytes] | bytes, field: str, max_bytes: int | None = None) -> bytes:
    limit = min(conf()["MAX_BYTES"], max_bytes or conf()["MAX_BYTES"])
    if isinstance(upload, bytes | bytearray):
        data = bytes(upload)
    else:
        chunks = getattr(upload, "chunks", None)
        buffer = bytearray()
        parts = chunks() if chunks else iter(lambda: upload.read(1 << 20), b"")
        for part in parts:
            buffer += part
            if len(buffer) > limit:
                break
        data = bytes(buffer)
    if not data:
        raise AttachmentError(_("文件为空。"), field)
    if len(data) > limit:
        raise AttachmentError(
            _("文件过大：最大 %(mb)s MB。") % {"mb": f"{limit / 1024 / 1024:g}"}, field
        )
    return data


def path_of(sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(sha256)
    root: Path = conf()["ROOT"]
    return root / sha256[:2] / sha256


def _store(data: bytes, sha256: str) -> None:
    target = path_of(sha256)
    if target.exists() and target.stat().st_size == len(data):
        return  # the same bytes, already kept
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o440)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def attach(
    owner: models.Model,
    upload: IO[bytes] | bytes,
    *,
    user: Any = None,
    name: str = "",
    label: str = "",
    field: str = "file",
    max_bytes: int | None = None,
) -> Attachment:
    """Check and keep ``upload`` as an attachment of ``owner`` (a saved record).

    Raises :class:`AttachmentError` (its ``field`` names the input) for an empty, oversized,
    unsupported or broken file; nothing is stored then. ``max_bytes`` lowers the size limit
    for one kind of upload (a public complaint's photo)."""
    if owner.pk is None:
        raise ValueError("attach to a saved record")
    data = _read(upload, field, max_bytes)
    kind = sniff(data, field)
    sha256 = hashlib.sha256(data).hexdigest()
    _store(data, sha256)
    uploader = user if getattr(user, "is_authenticated", False) else None
    return Attachment.objects.create(
        content_type=ContentType.objects.get_for_model(owner),
        object_id=owner.pk,
        sha256=sha256,
        size=len(data),
        mime=kind.mime,
        name=clean_name(name or getattr(upload, "name", "") or "", kind.extension),
        label=label[:100],
        uploaded_by=uploader,
    )


def attachments_of(owner: models.Model) -> models.QuerySet[Attachment]:
    return Attachment.objects.filter(
        content_type=ContentType.objects.get_for_model(owner), object_id=owner.pk
    ).order_by("uploaded_at", "id")


def open_bytes(attachment: Attachment) -> bytes:
    """The bytes, checked against the recorded hash (a file changed on disk is refused)."""
    data = path_of(attachment.sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise OSError(f"attachment {attachment.pk}: stored bytes do not match their hash")
    return data


def visible(user: Any, pk: int) -> Attachment:
    """The attachment ``pk`` if ``user`` may view its owner; else :class:`Http404`."""
    attachment = Attachment.objects.select_related("content_type").filter(pk=pk).first()
    owner = attachment.owner if attachment is not None else None
    if attachment is None or owner is None or not can(user, "view", owner):
        raise Http404
    return attachment


def serve(user: Any, pk: int) -> HttpResponse:
    """The bytes as a download-safe response: the sniffed type, the recorded name, and a
    sandbox policy so that even a PDF viewer runs no script from it."""
    attachment = visible(user, pk)
    try:
        data = open_bytes(attachment)
    except OSError:
        return HttpResponse(_("附件文件缺失或已损坏，请联系管理员。"), status=410)
    response = HttpResponse(data, content_type=attachment.mime)
    disposition = "inline" if attachment.mime in INLINE else "attachment"
    response["Content-Disposition"] = (
        content_disposition_header(disposition == "attachment", attachment.name) or ""
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["ETag"] = f'"{attachment.sha256}"'
    return response


#: Types a browser shows in place (an image, a PDF); anything else is downloaded.
INLINE = frozenset(DEFAULT_TYPES)
