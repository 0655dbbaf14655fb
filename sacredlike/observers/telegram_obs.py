"""TelegramObserver: Telegram messages through the Bot API at a run's start and end (Sacred's).

Needs httpx: ``pip install "sacredlike[notify]"`` (a ``socks5://`` proxy also needs
``pip install "httpx[socks]"``). Keep the bot token out of code: put it in a file and use
:meth:`TelegramObserver.from_config`.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from ..config.files import load_config_file
from ._notify import DEFAULT_NOTIFY_PRIORITY, DEFAULT_TIMEOUT, NotificationObserver, post_json

TELEGRAM_API_URL = "https://api.telegram.org"
_TEXTS = ("started_text", "completed_text", "interrupted_text", "failed_text")
_SETTINGS = (
    "token",
    "chat_id",
    "silent_completion",
    "proxy_url",
    "username",
    "password",
    "priority",
    "api_url",
    *_TEXTS,
)


class TelegramObserver(NotificationObserver):
    """Sends a Telegram message when a run starts (silently) and when it ends.

    Templates ``started_text``, ``completed_text``, ``interrupted_text`` and
    ``failed_text`` are :meth:`str.format` templates over the run's fields (see
    :mod:`sacredlike.observers._notify`), sent as Markdown; set one to None to skip that
    event. Interruptions and failures always notify; completions only quietly when
    ``silent_completion``. A message that cannot be sent is logged as a warning and never
    fails the run.

    Args:
        bot: the bot's HTTP API token, or an object with a ``token`` attribute (such as a
            ``telegram.Bot``). The token is a secret: it is never logged.
        chat_id: the chat (user or group id) to write to.
        silent_completion: send the completion message without a notification sound.
        priority: observer priority (default 10).
        proxy: proxy URL (``http://host:port`` or ``socks5://host:port``); by default the
            ``HTTPS_PROXY`` environment variable is used when set.
        api_url: the Bot API's base URL (another server, e.g. a local Bot API server).
        timeout: seconds one message may take.
    """

    name = "Telegram"
    started_text: str | None = (
        "*{experiment[name]}* started at _{start_time}_ on host `{host_info[hostname]}`"
    )
    completed_text: str | None = (
        "*{experiment[name]}* completed after _{elapsed_time}_ with result=`{result}`"
    )
    interrupted_text: str | None = (
        "*{experiment[name]}* was interrupted ({status}) after _{elapsed_time}_"
    )
    failed_text: str | None = (
        "*{experiment[name]}* failed after _{elapsed_time}_ with `{error}`\n\n"
        "Backtrace:\n```{backtrace}```"
    )

    def __init__(
        self,
        bot: Any,
        chat_id: int | str,
        silent_completion: bool = False,
        priority: int = DEFAULT_NOTIFY_PRIORITY,
        proxy: str | None = None,
        api_url: str = TELEGRAM_API_URL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(priority)
        self.token = str(getattr(bot, "token", bot))
        self.chat_id = chat_id
        self.silent_completion = silent_completion
        self.proxy = proxy
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_config(cls, filename: str | os.PathLike[str]) -> TelegramObserver:
        """Build from a JSON or YAML file with ``token`` and ``chat_id``.

        Optional entries: ``silent_completion``, ``proxy_url`` (with ``username`` and
        ``password`` for the proxy), ``priority``, ``api_url`` and the four templates.

        Raises:
            ValueError: the file lacks ``token`` or ``chat_id``.
            ConfigError: the file is missing or malformed.
        """
        settings = load_config_file(filename)
        if "token" not in settings or "chat_id" not in settings:
            raise ValueError(
                f"Telegram configuration file {os.fspath(filename)!r} must have both token and "
                "chat_id"
            )
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            logging.getLogger(__name__).warning(
                "Telegram configuration file %r: ignoring unknown entries %s",
                os.fspath(filename),
                ", ".join(sorted(unknown)),
            )
        proxy = settings.get("proxy_url")
        if proxy is not None:
            proxy = _with_credentials(proxy, settings.get("username"), settings.get("password"))
        observer = cls(
            settings["token"],
            settings["chat_id"],
            silent_completion=bool(settings.get("silent_completion", False)),
            priority=settings.get("priority", DEFAULT_NOTIFY_PRIORITY),
            proxy=proxy,
            api_url=settings.get("api_url", TELEGRAM_API_URL),
        )
        for key in _TEXTS:
            if key in settings:
                setattr(observer, key, settings[key])
        return observer

    def deliver(self, event: str, text: str) -> None:
        """Send ``text`` with ``sendMessage``; quietly for starts (and completions if asked)."""
        quiet = event == "started" or (event == "completed" and self.silent_completion)
        post_json(
            f"{self.api_url}/bot{self.token}/sendMessage",
            {
                "chat_id": self.chat_id,
                "text": text,
                "parse_mode": "Markdown",
                "disable_notification": quiet,
            },
            secrets=[self.token, *_proxy_secrets(self.proxy)],
            what=f"Telegram {event} message",
            proxy=self.proxy,
            timeout=self.timeout,
        )

    def __eq__(self, other: Any) -> bool:
        """Same bot token and chat."""
        if not isinstance(other, TelegramObserver):
            return NotImplemented
        return (self.token, self.chat_id) == (other.token, other.chat_id)

    def __hash__(self) -> int:
        return hash((TelegramObserver, self.token, self.chat_id))

    def __repr__(self) -> str:
        return f"TelegramObserver(chat_id={self.chat_id!r}, priority={self.priority})"


def _with_credentials(proxy: str, username: str | None, password: str | None) -> str:
    """``proxy`` with ``username:password@`` put in front of its host (when given)."""
    if not username:
        return proxy
    parts = urlsplit(proxy)
    login = quote(username, safe="") + (f":{quote(password, safe='')}" if password else "")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


def _proxy_secrets(proxy: str | None) -> list[str]:
    """The password part of a proxy URL, to keep out of logs."""
    if not proxy:
        return []
    password = urlsplit(proxy).password
    return [password] if password else []


__all__ = ["TELEGRAM_API_URL", "TelegramObserver"]
