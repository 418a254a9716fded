"""Identifier checks: the unified social credit code (GB 32100-2015).

The check digit algorithm comes from python-stdnum (``stdnum.cn.uscc``), the maintained
implementation of GB 32100-2015; this module only turns its exceptions into messages.
"""

from __future__ import annotations

from stdnum.cn import uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

__all__ = ["USCCError", "normalise_uscc"]


class USCCError(ValueError):
    """A unified social credit code that is not well formed."""


def normalise_uscc(value: str) -> str:
    """Return the 18-character code in canonical form, or raise :class:`USCCError`."""
    try:
        return str(uscc.validate(value))
    except InvalidLength as exc:
        raise USCCError("统一社会信用代码应为18位 (must be 18 characters)") from exc
    except InvalidChecksum as exc:
        raise USCCError("统一社会信用代码校验位错误 (check digit is wrong)") from exc
    except (InvalidFormat, InvalidComponent) as exc:
        raise USCCError("统一社会信用代码含非法字符 (contains characters not allowed)") from exc
    except ValidationError as exc:
        raise USCCError(f"统一社会信用代码无效 ({exc})") from exc
