"""Hiding passwords embedded in URLs before they are logged or stored."""

from __future__ import annotations

import re
from typing import Any

_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]*@")


def redact_credentials(value: Any) -> Any:
    """``value`` with the password of every ``scheme://user:password@`` URL replaced by ***."""
    if isinstance(value, str):
        return _CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", value)
    if isinstance(value, dict):
        return {k: redact_credentials(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_credentials(v) for v in value]
    return value
