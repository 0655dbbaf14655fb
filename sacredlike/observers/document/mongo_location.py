"""Where a Mongo observer or reader connects: the ``-m/--mongo_db`` forms and URIs.

The plain forms are Sacred's, ``[HOST:PORT:]DB[.COLLECTION[:ID]][!PRIORITY]``: ``.COLLECTION``
names the runs collection (metrics stay in ``metrics``) and ``:ID`` the run to overwrite.
As in Sacred, ``A.B:N`` alone is a host and port, so ``:ID`` needs the ``HOST:PORT:`` part.
URIs (which Sacred's ``-m`` does not take) keep this project's ``/DB.PREFIX``: collections
``PREFIX_runs`` and ``PREFIX_metrics``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ...errors import CommandLineError
from ...redaction import redact_credentials

_NAME = r"[A-Za-z0-9_-]+"
_PLAIN_FORM = re.compile(
    rf"^(?:(?P<host>[^:/\s]+):(?P<port>\d+)"
    rf"(?::(?P<db>{_NAME})(?:\.(?P<collection>{_NAME})(?::(?P<overwrite>\d+))?)?)?"
    rf"|(?P<db_only>{_NAME})(?:\.(?P<collection_only>{_NAME}))?)$"
)
_PRIORITY = re.compile(r"!(-?\d+)$")
_FORMS = (
    "expected DB, DB.COLLECTION, HOST:PORT, HOST:PORT:DB, HOST:PORT:DB.COLLECTION or "
    "HOST:PORT:DB.COLLECTION:ID (ID: the run to overwrite), optionally followed by !PRIORITY, "
    "or a mongodb:// or mongodb+srv:// URI"
)


def collection_names(collection_prefix: str = "", collection: str = "runs") -> tuple[str, str]:
    """The runs and metrics collections: ``PREFIX_runs`` / ``PREFIX_metrics`` with a prefix,
    else ``collection`` / ``metrics`` (Sacred's rule for its ``collection`` argument)."""
    if collection_prefix:
        return f"{collection_prefix}_runs", f"{collection_prefix}_metrics"
    return collection, "metrics"


@dataclass(frozen=True)
class MongoTarget:
    """Where a Mongo observer or reader connects, parsed from ``-m`` or a URL.

    Attributes:
        url: the connection URI, without collection prefix (may hold credentials).
        db_name / collection_prefix / priority: as for :class:`MongoObserver`.
        collection: the runs collection when there is no prefix (``-m DB.COLLECTION``).
        overwrite: id of the run to overwrite (``-m HOST:PORT:DB.COLLECTION:ID``), or None.
    """

    url: str
    db_name: str = "sacred"
    collection_prefix: str = ""
    priority: int = 30
    collection: str = "runs"
    overwrite: int | None = None

    @property
    def runs_name(self) -> str:
        """The runs collection."""
        return collection_names(self.collection_prefix, self.collection)[0]

    @property
    def metrics_name(self) -> str:
        """The metrics collection."""
        return collection_names(self.collection_prefix, self.collection)[1]

    @property
    def safe_url(self) -> str:
        """Where this is, password hidden, in a form :func:`parse_target` reads back.

        ``URI/DB[.PREFIX]``, or ``HOST:PORT:DB.COLLECTION`` for a runs collection of its own
        (only the plain form can name one; credentials and options are left out then).
        """
        parts = urlsplit(redact_credentials(self.url))
        if self.collection != "runs" and not self.collection_prefix:
            return f"{parts.hostname}:{parts.port or 27017}:{self.db_name}.{self.collection}"
        path = self.db_name + (f".{self.collection_prefix}" if self.collection_prefix else "")
        return urlunsplit((parts.scheme, parts.netloc, "/" + path, parts.query, ""))


def parse_target(value: str) -> MongoTarget:
    """Parse a ``-m/--mongo_db`` value or a ``mongodb://`` URL.

    Forms (Sacred's): ``DB``, ``DB.COLLECTION``, ``HOST:PORT``, ``HOST:PORT:DB``,
    ``HOST:PORT:DB.COLLECTION``, ``HOST:PORT:DB.COLLECTION:ID``, each optionally followed by
    ``!PRIORITY``; and ``mongodb://[user:pass@]host[:port][/DB[.PREFIX]][?opts]`` and
    ``mongodb+srv://...`` (also with ``!PRIORITY``).

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
    collection = groups["collection"] or groups["collection_only"] or "runs"
    overwrite = None if groups["overwrite"] is None else int(groups["overwrite"])
    url = "mongodb://localhost:27017"
    if groups["host"] is not None:
        port = int(groups["port"])
        if not 0 < port < 65536:
            raise CommandLineError(f"bad MongoDB location {text!r}: port {port} is out of range")
        url = f"mongodb://{groups['host']}:{port}"
    return MongoTarget(url, db, "", priority, collection, overwrite)


def _plain_problem(text: str) -> str:
    pieces = text.split(":")
    if len(pieces) > 4 or (len(pieces) == 4 and not ("." in pieces[2] and pieces[3].isdigit())):
        return "too many ':' separators (a fourth part, :ID, must follow HOST:PORT:DB.COLLECTION)"
    if len(pieces) >= 2 and not pieces[1].isdigit():
        return f"the port {pieces[1]!r} is not a number"
    return "the database or collection name has characters other than letters, digits, _ and -"


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
