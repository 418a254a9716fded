from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _attachment_root(settings: Any, tmp_path: Any) -> None:
    """Inspection files go to the test's own directory."""
    settings.AQUIFER = {**settings.AQUIFER, "ATTACHMENTS": {"ROOT": tmp_path / "files"}}
