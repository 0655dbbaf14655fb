"""SlackObserver: a Slack message through an incoming webhook when a run ends (Sacred's).

Needs httpx: ``pip install "sacredlike[notify]"``. Keep the webhook URL out of code: put it
in a file and use :meth:`SlackObserver.from_config`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from ..config.files import load_config_file
from ._notify import DEFAULT_NOTIFY_PRIORITY, DEFAULT_TIMEOUT, NotificationObserver, post_json

_SETTINGS = ("bot_name", "icon", "completed_text", "interrupted_text", "failed_text")


class SlackObserver(NotificationObserver):
    """Posts a message to a Slack incoming webhook when a run completes, is interrupted or fails.

    The ``completed_text``, ``interrupted_text`` and ``failed_text`` attributes are
    :meth:`str.format` templates over the run's fields (see
    :mod:`sacredlike.observers._notify`), e.g. ``"{experiment[name]} gave {result}"``; set
    one to None to send nothing for that end. A message that cannot be sent is logged as a
    warning and never fails the run.

    Args:
        webhook_url: the incoming webhook's URL (a secret: it is never logged).
        bot_name: the sender name shown in Slack.
        icon: the sender's emoji, e.g. ``":angel:"``.
        priority: observer priority (default 10).
        timeout: seconds one message may take.
    """

    name = "Slack"
    completed_text: str | None = (
        ":white_check_mark: *{experiment[name]}* completed after _{elapsed_time}_ "
        "with result=`{result}`"
    )
    interrupted_text: str | None = (
        ":warning: *{experiment[name]}* was interrupted ({status}) after _{elapsed_time}_"
    )
    failed_text: str | None = ":x: *{experiment[name]}* failed after _{elapsed_time}_: `{error}`"

    def __init__(
        self,
        webhook_url: str,
        bot_name: str = "sacred-bot",
        icon: str = ":angel:",
        priority: int = DEFAULT_NOTIFY_PRIORITY,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(priority)
        self.webhook_url = webhook_url
        self.bot_name = bot_name
        self.icon = icon
        self.timeout = timeout

    @classmethod
    def from_config(cls, filename: str | os.PathLike[str]) -> SlackObserver:
        """Build from a JSON or YAML file with ``webhook_url`` and optionally ``bot_name``,
        ``icon``, ``completed_text``, ``interrupted_text``, ``failed_text`` and ``priority``.

        Raises:
            ValueError: the file has no ``webhook_url``.
            ConfigError: the file is missing or malformed.
        """
        settings = load_config_file(filename)
        if "webhook_url" not in settings:
            raise ValueError(f"Slack configuration file {os.fspath(filename)!r} has no webhook_url")
        unknown = set(settings) - {"webhook_url", "priority", *_SETTINGS}
        if unknown:
            logging.getLogger(__name__).warning(
                "Slack configuration file %r: ignoring unknown entries %s",
                os.fspath(filename),
                ", ".join(sorted(unknown)),
            )
        observer = cls(
            settings["webhook_url"], priority=settings.get("priority", DEFAULT_NOTIFY_PRIORITY)
        )
        for key in _SETTINGS:
            if key in settings:
                setattr(observer, key, settings[key])
        return observer

    def deliver(self, event: str, text: str) -> None:
        """Post ``text`` with the bot's name and icon to the webhook."""
        post_json(
            self.webhook_url,
            {"username": self.bot_name, "icon_emoji": self.icon, "text": text},
            secrets=[self.webhook_url],
            what=f"Slack {event} message",
            timeout=self.timeout,
        )

    def __eq__(self, other: Any) -> bool:
        """Same webhook."""
        if not isinstance(other, SlackObserver):
            return NotImplemented
        return self.webhook_url == other.webhook_url

    def __hash__(self) -> int:
        return hash((SlackObserver, self.webhook_url))

    def __repr__(self) -> str:
        return f"SlackObserver(bot_name={self.bot_name!r}, priority={self.priority})"


__all__ = ["SlackObserver"]
