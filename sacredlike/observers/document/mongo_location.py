"""Where a Mongo observer or reader connects: the ``-m/--mongo_db`` forms and URIs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ...errors import CommandLineError
from ...redaction import redact_credentials

_NAME = r"[A-Za-z0-9_-]+"
_PLAIN_FORM = re.compile(
    rf"^(?:(?P<host>[^:/\s]+):(?P<port>\d+)(?::(?P<db>{_NAME})(?:\.(?P<prefix>{_NAME}))?)?"
    rf"|(?P<db_only>{_NAME})(?:\.(?P<prefix_only>{_NAME}))?)$"
)
_PRIORITY = re.compile(r"!(-?\d+)$")
_FORMS = (
    "expected DB, HOST:PORT, HOST:PORT:DB or any of them with .COLLECTION_PREFIX after the "
    "DB, optionally followed by !PRIORITY, or a mongodb:// or mongodb+srv:// URI"
)


@dataclass(frozen=True)
class MongoTarget:
    """Where a Mongo observer or reader connects, parsed from ``-m`` or a URL.

    Attributes:
        url: the connection URI, without collection prefix (may hold credentials).
        db_name / collection_prefix / priority: as for :class:`MongoObserver`.
    """

    url: str
    db_name: str = "sacred"
    collection_prefix: str = ""
    priority: int = 30

    @property
    def safe_url(self) -> str:
        """The URL with its password hidden, plus ``/DB.PREFIX``."""
        parts = urlsplit(redact_credentials(self.url))
        path = self.db_name + (f".{self.collection_prefix}" if self.collection_prefix else "")
        return urlunsplit((parts.scheme, parts.netloc, "/" + path, parts.query, ""))


def parse_target(value: str) -> MongoTarget:
    """Parse a ``-m/--mongo_db`` value or a ``mongodb://`` URL.

    Forms: ``DB``, ``HOST:PORT``, ``HOST:PORT:DB``, any with ``.PREFIX`` after the DB, each
    optionally followed by ``!PRIORITY``; ``mongodb://[user:pass@]host[:port][/DB[.PREFIX]][?opts]``
    and ``mongodb+srv://...`` (also with ``!PRIORITY``).

    Raises:
        CommandLineError: the value matches none of the forms; the message says why.
    """
    text = value.strip()
    if not text:
        raise CommandLineError(f"empty MongoDB location: {_FORMS}")
    priority = 30
    match = _PRIORITY.search(text)
    if match:
        priority, text = int(match.group(1)), text[: match.start()]
    if "://" in text:
        return _parse_uri(text, priority)
    if "!" in text:
        raise CommandLineError(
            f"bad MongoDB location {text!r}: the priority after '!' must be an integer"
        )
    found = _PLAIN_FORM.match(text)
    if found is None:
        raise CommandLineError(f"bad MongoDB location {text!r}: {_plain_problem(text)}; {_FORMS}")
    groups = found.groupdict()
    db = groups["db"] or groups["db_only"] or "sacred"
    prefix = groups["prefix"] or groups["prefix_only"] or ""
    if groups["host"] is None:
        return MongoTarget("mongodb://localhost:27017", db, prefix, priority)
    port = int(groups["port"])
    if not 0 < port < 65536:
        raise CommandLineError(f"bad MongoDB location {text!r}: port {port} is out of range")
    return MongoTarget(f"mongodb://{groups['host']}:{port}", db, prefix, priority)


def _plain_problem(text: str) -> str:
    pieces = text.split(":")
    if len(pieces) > 3:
        return "too many ':' separators"
    if len(pieces) >= 2 and not pieces[1].isdigit():
        return f"the port {pieces[1]!r} is not a number"
    return "the database or prefix name has characters other than letters, digits, _ and -"


def _parse_uri(text: str, priority: int) -> MongoTarget:
    parts = urlsplit(text)
    if parts.scheme not in ("mongodb", "mongodb+srv"):
        raise CommandLineError(
            f"bad MongoDB URI scheme {parts.scheme!r}: use mongodb:// or mongodb+srv://"
        )
    if not parts.netloc.rpartition("@")[2]:
        raise CommandLineError("bad MongoDB URI: it names no host")
    db, _, prefix = parts.path.lstrip("/").partition(".")
    clean = urlunsplit((parts.scheme, parts.netloc, "/" + db if db else "/", parts.query, ""))
    return MongoTarget(clean, db or "sacred", prefix, priority)
