"""What the notification observers (Slack, Telegram) share.

A :class:`NotificationObserver` keeps the fields of the current run that message templates
may use and, at the events it reports, fills the template of that event with
:meth:`str.format` and hands the text to its subclass. Fields, as in Sacred: ``_id, config,
start_time, experiment`` (also as ``ex_info``), ``command, host_info, meta_info``; then
``result, stop_time`` (completed), ``status, interrupt_time`` (interrupted), ``error,
fail_trace, backtrace, fail_time`` (failed), and ``elapsed_time`` at every end. A template
set to None sends nothing for its event.

Delivery never fails a run: an unreachable service, an error status or a template that
cannot be filled is logged as one warning, with the secret (webhook URL, bot token) left out
of the message and of httpx's own request log.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import MissingExtra
from .base import RunObserver

DEFAULT_NOTIFY_PRIORITY = 10
DEFAULT_TIMEOUT = 10.0
"""Seconds one notification may take before it is given up (connect and each read)."""

_log = logging.getLogger("sacredlike.observers.notify")


def require_httpx(observer: str) -> None:
    """Raise :class:`MissingExtra` (extra ``notify``) when httpx is not installed."""
    if importlib.util.find_spec("httpx") is None:
        raise MissingExtra(observer, "notify", "httpx", feature=f"the {observer} observer")


def elapsed_text(elapsed: _dt.timedelta) -> str:
    """``elapsed`` in words, largest units first: ``"1 hour, 2 minutes, 5 seconds"``."""
    minutes, seconds = divmod(max(0, int(elapsed.total_seconds())), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [
        f"{count} {unit}{'' if count == 1 else 's'}"
        for count, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if count
    ]
    if seconds or not parts:
        parts.append(f"{seconds} second{'' if seconds == 1 else 's'}")
    return ", ".join(parts)


class _SecretFilter(logging.Filter):
    """Replaces known secrets in records of the ``httpx`` logger (it logs each request URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = redact(message, self.secrets)
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


_secret_filter = _SecretFilter()
logging.getLogger("httpx").addFilter(_secret_filter)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    secrets: Iterable[str],
    what: str,
    proxy: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> bool:
    """POST ``payload`` as JSON to ``url``; return whether the service accepted it.

    Any failure is logged as one warning naming ``what`` and never raised; ``secrets`` are
    replaced by ``***`` in that warning and in httpx's log records.
    """
    import httpx

    secrets = [secret for secret in secrets if secret]
    _secret_filter.secrets.update(secrets)
    try:
        with httpx.Client(proxy=proxy, timeout=timeout) as client:
            response = client.post(url, json=dict(payload))
        if response.is_success:
            return True
        reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    except Exception as error:  # the run must go on whatever the network did
        reason = redact(f"{type(error).__name__}: {error}", secrets)
    _log.warning("%s was not sent (%s)", what, reason)
    return False


class NotificationObserver(RunObserver):
    """Base of observers that send one message per run event they report.

    Subclasses set the ``<event>_text`` templates they use (``started``, ``completed``,
    ``interrupted``, ``failed``) and implement :meth:`deliver`.

    Attributes:
        run: the template fields of the current run (None before the first start).
    """

    name = "notification"
    started_text: str | None = None
    completed_text: str | None = None
    interrupted_text: str | None = None
    failed_text: str | None = None

    def __init__(self, priority: int = DEFAULT_NOTIFY_PRIORITY) -> None:
        require_httpx(self.name)
        self.priority = priority
        self.run: dict[str, Any] | None = None

    def deliver(self, event: str, text: str) -> None:
        """Send ``text``, the filled template of ``event`` (``"completed"``, ...)."""
        raise NotImplementedError

    def started_event(self, ex_info, command, host_info, start_time, config, meta_info, _id):
        """Remember the run's fields; send ``started_text`` if there is one."""
        self.run = {
            "_id": _id,
            "config": config,
            "start_time": start_time,
            "experiment": ex_info,
            "ex_info": ex_info,
            "command": command,
            "host_info": host_info,
            "meta_info": meta_info,
        }
        self._notify("started")

    def completed_event(self, stop_time, result):
        """Send ``completed_text``."""
        self._ended(stop_time, result=result, stop_time=stop_time)
        self._notify("completed")

    def interrupted_event(self, interrupt_time, status):
        """Send ``interrupted_text``."""
        self._ended(interrupt_time, status=status, interrupt_time=interrupt_time)
        self._notify("interrupted")

    def failed_event(self, fail_time, fail_trace):
        """Send ``failed_text``."""
        lines = list(fail_trace or [])
        self._ended(
            fail_time,
            fail_trace=lines,
            error=lines[-1].strip() if lines else "",
            backtrace="".join(lines),
            fail_time=fail_time,
        )
        self._notify("failed")

    def _ended(self, end_time: _dt.datetime, **fields: Any) -> None:
        if self.run is None:  # events given directly, without a start
            self.run = {}
        start = self.run.get("start_time")
        elapsed = end_time - start if isinstance(start, _dt.datetime) else _dt.timedelta()
        self.run.update(fields, elapsed_time=elapsed_text(elapsed))

    def _notify(self, event: str) -> None:
        template = getattr(self, f"{event}_text")
        if template is None:
            return
        try:
            text = template.format(**(self.run or {}))
        except (KeyError, IndexError, AttributeError, ValueError) as error:
            _log.warning(
                "%s %s message was not sent: its template cannot be filled (%s: %s)",
                self.name,
                event,
                type(error).__name__,
                error,
            )
            return
        self.deliver(event, text)
