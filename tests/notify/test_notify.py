"""SlackObserver and TelegramObserver against a local HTTP server, through real runs.

Written from Sacred's observer chapter: ``SlackObserver.from_config("slack.json")`` with
``webhook_url``, ``icon``, ``bot_name`` and the three text templates (null: no message), and
``TelegramObserver.from_config`` of a json or yaml file with ``token``, ``chat_id``,
``silent_completion`` and ``proxy_url`` (+ ``username``/``password``); starts are sent
silently, interruptions and failures with a notification.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import socket

import pytest

from sacredlike import Experiment
from sacredlike.errors import MissingExtra

FAST = {"--capture": "sys", "--beat-interval": 0.05}
WEBHOOK_SECRET = "XXXXSECRETWEBHOOKXXXX"
BOT_TOKEN = "123456:SECRET-BOT-TOKEN"


def experiment(observer, main) -> Experiment:
    ex = Experiment("notify_demo", save_git_info=False)
    ex.observers.append(observer)
    ex.main(main)
    return ex


def slack_config(tmp_path, url: str, **entries) -> str:
    path = tmp_path / "slack.json"
    path.write_text(json.dumps({"webhook_url": url, **entries}))
    return str(path)


def test_slack_from_config_sends_the_filled_templates(http_server, tmp_path):
    from sacredlike.observers import SlackObserver

    path = slack_config(
        tmp_path,
        f"{http_server.url}/services/T000/B000/{WEBHOOK_SECRET}",
        icon=":imp:",
        bot_name="my-sacred-bot",
        completed_text="YAY! {ex_info[name]} completed with result=`{result}`",
        interrupted_text=None,
        failed_text="Oh noes! {experiment[name]} failed saying `{error}`",
    )
    experiment(SlackObserver.from_config(path), lambda: 42).run(options=FAST)
    assert http_server.requests == [
        (
            f"/services/T000/B000/{WEBHOOK_SECRET}",
            {
                "username": "my-sacred-bot",
                "icon_emoji": ":imp:",
                "text": "YAY! notify_demo completed with result=`42`",
            },
        )
    ]

    def fail():
        raise ValueError("broken input")

    with pytest.raises(ValueError):
        experiment(SlackObserver.from_config(path), fail).run(options=FAST)
    assert http_server.bodies()[-1]["text"] == (
        "Oh noes! notify_demo failed saying `ValueError: broken input`"
    )

    def interrupt():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        experiment(SlackObserver.from_config(path), interrupt).run(options=FAST)
    assert len(http_server.requests) == 2  # interrupted_text is null: nothing sent


def test_slack_defaults_and_elapsed_time(http_server):
    from sacredlike.observers.slack import SlackObserver

    observer = SlackObserver(f"{http_server.url}/hook")
    assert (observer.bot_name, observer.icon, observer.priority) == ("sacred-bot", ":angel:", 10)
    experiment(observer, lambda: "done").run(options=FAST)
    text = http_server.bodies()[0]["text"]
    assert "*notify_demo* completed after _0 seconds_" in text and "`done`" in text


@pytest.mark.parametrize("failure", ["status 500", "server down"])
def test_a_failed_notification_never_fails_the_run(http_server, caplog, failure):
    from sacredlike.observers import SlackObserver, TelegramObserver

    if failure == "status 500":
        http_server.status = 500
        base = http_server.url
    else:
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    caplog.set_level(logging.DEBUG)
    slack = SlackObserver(f"{base}/services/{WEBHOOK_SECRET}")
    telegram = TelegramObserver(BOT_TOKEN, 42, api_url=base)
    ex = experiment(slack, lambda: 1)
    ex.observers.append(telegram)
    run = ex.run(options=FAST)
    assert run.status == "COMPLETED" and run.result == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(" (")[0] for r in warnings] == [
        "Telegram started message was not sent",
        "Slack completed message was not sent",
        "Telegram completed message was not sent",
    ]
    assert all("\n" not in r.getMessage() and len(r.getMessage()) < 200 for r in warnings)
    assert WEBHOOK_SECRET not in caplog.text and "SECRET-BOT-TOKEN" not in caplog.text


def test_secrets_stay_out_of_httpx_request_logs(http_server, caplog):
    from sacredlike.observers import SlackObserver, TelegramObserver

    caplog.set_level(logging.DEBUG)
    ex = experiment(SlackObserver(f"{http_server.url}/services/{WEBHOOK_SECRET}"), lambda: 1)
    ex.observers.append(TelegramObserver(BOT_TOKEN, 42, api_url=http_server.url))
    ex.run(options=FAST)
    assert len(http_server.requests) == 3
    assert any(r.name == "httpx" for r in caplog.records)  # httpx did log its requests
    assert WEBHOOK_SECRET not in caplog.text and "SECRET-BOT-TOKEN" not in caplog.text
    assert "SECRET" not in repr(ex.observers)


def test_template_that_cannot_be_filled_is_a_warning(http_server, caplog):
    from sacredlike.observers import SlackObserver

    observer = SlackObserver(f"{http_server.url}/hook")
    observer.completed_text = "{no_such_field} done"
    run = experiment(observer, lambda: 1).run(options=FAST)
    assert run.status == "COMPLETED" and http_server.requests == []
    assert "template cannot be filled (KeyError: 'no_such_field')" in caplog.text


def test_slack_config_without_webhook_is_refused(tmp_path):
    from sacredlike.observers import SlackObserver

    path = tmp_path / "slack.json"
    path.write_text(json.dumps({"icon": ":imp:"}))
    with pytest.raises(ValueError, match="webhook_url"):
        SlackObserver.from_config(path)


def test_telegram_from_json_config(http_server, tmp_path):
    from sacredlike.observers import TelegramObserver

    path = tmp_path / "telegram.json"
    path.write_text(
        json.dumps(
            {
                "token": BOT_TOKEN,
                "chat_id": 1234,
                "silent_completion": True,
                "api_url": http_server.url,
            }
        )
    )
    experiment(TelegramObserver.from_config(path), lambda: 0.5).run(options=FAST)
    paths = {path for path, _ in http_server.requests}
    assert paths == {f"/bot{BOT_TOKEN}/sendMessage"}
    started, completed = http_server.bodies()
    assert started["chat_id"] == 1234 and started["parse_mode"] == "Markdown"
    assert started["disable_notification"] is True
    assert started["text"].startswith("*notify_demo* started at _")
    assert f"on host `{socket.gethostname()}`" in started["text"]
    assert completed["disable_notification"] is True  # silent_completion
    assert "with result=`0.5`" in completed["text"]


def test_telegram_from_yaml_config_failure_notifies_with_backtrace(http_server, tmp_path):
    from sacredlike.observers.telegram_obs import TelegramObserver

    path = tmp_path / "telegram.yaml"
    path.write_text(f"token: '{BOT_TOKEN}'\nchat_id: 99\napi_url: {http_server.url}\n")
    observer = TelegramObserver.from_config(path)
    assert (observer.chat_id, observer.silent_completion, observer.priority) == (99, False, 10)

    def fail():
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        experiment(observer, fail).run(options=FAST)
    failed = http_server.bodies()[-1]
    assert failed["disable_notification"] is False
    assert "failed after _" in failed["text"] and "`RuntimeError: out of memory`" in failed["text"]
    assert "Backtrace:\n```Traceback (most recent call last):" in failed["text"]


def test_telegram_config_needs_token_and_chat_id_and_builds_the_proxy_url(tmp_path):
    from sacredlike.observers import TelegramObserver

    path = tmp_path / "telegram.json"
    path.write_text(json.dumps({"token": BOT_TOKEN}))
    with pytest.raises(ValueError, match="token and chat_id"):
        TelegramObserver.from_config(path)
    path.write_text(
        json.dumps(
            {
                "token": BOT_TOKEN,
                "chat_id": 1,
                "proxy_url": "http://proxy.example:3128/",
                "username": "me",
                "password": "p@ss",
            }
        )
    )
    assert TelegramObserver.from_config(path).proxy == "http://me:p%40ss@proxy.example:3128/"


def test_telegram_accepts_a_bot_object_and_observers_compare_by_settings():
    from sacredlike.observers import SlackObserver, TelegramObserver

    class Bot:
        token = BOT_TOKEN

    assert TelegramObserver(Bot(), 5) == TelegramObserver(BOT_TOKEN, 5)
    assert TelegramObserver(BOT_TOKEN, 5) != TelegramObserver(BOT_TOKEN, 6)
    assert SlackObserver("http://a/hook") == SlackObserver("http://a/hook", bot_name="other")
    assert SlackObserver("http://a/hook") != SlackObserver("http://b/hook")
    assert len({SlackObserver("http://a/hook"), SlackObserver("http://a/hook")}) == 1
    assert SlackObserver("http://a/hook") != TelegramObserver(BOT_TOKEN, 5)


def test_missing_httpx_is_a_missing_extra(monkeypatch):
    from sacredlike.observers import SlackObserver

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "httpx" else real(name, *a)
    )
    with pytest.raises(MissingExtra, match=r"sacredlike\[notify\]"):
        SlackObserver("http://a/hook")
