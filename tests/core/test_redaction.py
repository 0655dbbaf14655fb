"""Passwords in URLs are hidden before anything is logged or stored."""

from sacredlike.redaction import redact_credentials


def test_redaction_reaches_nested_values():
    value = {"a": ["see mongodb://u:pw@h/x and postgresql://v:pw2@h/y"], "n": 3}
    assert redact_credentials(value) == {
        "a": ["see mongodb://u:***@h/x and postgresql://v:***@h/y"],
        "n": 3,
    }


def test_urls_without_password_are_unchanged():
    for text in ("mongodb://host:27017/db", "sqlite:///runs.db", "user@host", "a:b@c"):
        assert redact_credentials(text) == text
