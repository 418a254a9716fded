"""Static files: hashed, precompressed and cached for good once collected.

:class:`StaticStorage` is whitenoise's ``CompressedManifestStaticFilesStorage`` (``collectstatic``
writes each file under a content-hashed name, with ``.gz`` and ``.br`` copies; whitenoise then
serves those with ``Cache-Control: max-age=315360000, public, immutable`` and the encoding the
browser accepts — plotly.min.js goes out as ~1 MB of brotli instead of 4.8 MB). Until
``collectstatic`` has run (a checkout, the test suite) there is no manifest: the storage then
hands out the plain names, which whitenoise serves from the packages (``WHITENOISE_USE_FINDERS``)
with a short max-age, so nothing breaks before the files are collected.

:func:`ensure_collected` runs ``collectstatic`` when the collected files are missing or stale
(the packages' files changed since: a fingerprint of their names, sizes and modification times
is kept beside them). ``aquifer serve`` and ``aquifer demo`` call it before they serve;
``AQUIFER_COLLECTSTATIC=0`` leaves it to the deployment.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from whitenoise import compress as whitenoise_compress
from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage

__all__ = ["StaticStorage", "ensure_collected", "fingerprint"]

FINGERPRINT_FILE = ".aquifer-static-fingerprint"
#: Brotli quality of the precompressed copies. 11 (brotli's default) squeezes plotly.min.js to
#: 1.11 MB but takes ~15 s of CPU (a minute on a busy two-core machine) at every collect; 5
#: gives 1.29 MB in half a second (gzip -9: 1.47 MB).
BROTLI_QUALITY = 5
#: Files of the packages nobody asks for, left out of the collection: plotly's sample data
#: sets and its Jupyter widget bundle (5 MB).
IGNORE = ["datasets", "widgetbundle.js"]


class _Compressor(Compressor):  # type: ignore[misc]
    @staticmethod
    def compress_brotli(data: bytes) -> bytes:
        # Called only when whitenoise found brotli (its "brotli" extra).
        return bytes(whitenoise_compress.brotli.compress(data, quality=BROTLI_QUALITY))


class StaticStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    """Manifest storage that falls back to the plain name while nothing is collected, and for
    a file the manifest does not know (added after the last collect: served by the finders)."""

    def create_compressor(self, **kwargs: Any) -> Compressor:
        return _Compressor(**kwargs)

    def _collected(self) -> bool:
        return bool(self.hashed_files)

    def stored_name(self, name: str) -> str:
        if not self._collected():
            return name
        try:
            return str(super().stored_name(name))
        except ValueError:  # not in the manifest (a file added since): the plain name
            return name

    def url(self, name: Any, force: bool = False) -> str:
        if not self._collected():
            return FileSystemStorage.url(self, name)
        return str(super().url(name, force))


def fingerprint() -> str:
    """A digest of every static file the finders see: path, size, modification time."""
    h = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            full = storage.path(path)
            st = os.stat(full)
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def ensure_collected() -> bool:
    """Collect the static files when they are missing or stale; True when it ran
    ``collectstatic``. ``AQUIFER_COLLECTSTATIC=0`` turns it off (a deployment that collects
    them itself; the test suite)."""
    root = settings.STATIC_ROOT
    if not root or os.environ.get("AQUIFER_COLLECTSTATIC", "1") == "0":
        return False
    marker = Path(root) / FINGERPRINT_FILE
    want = fingerprint()
    if marker.exists() and marker.read_text() == want:
        return False
    call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=IGNORE)
    marker.write_text(want)
    return True
