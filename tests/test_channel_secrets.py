"""A channel's ${ENV_VAR} may name only a variable meant as a channel secret: its value is sent to
the host the channel's URL names (or signs for it), so the service's own settings and the
machine's variables must never be reachable from the directory file."""

from __future__ import annotations

import re

import pytest
import yaml

from service.directory import DEFAULT_DIRECTORY, SourceErrors, load_directory, secret_var_allowed
from service.notifications.channels import ConfigError, resolve


def directory_with(tmp_path, channel: dict):
    data = yaml.safe_load(DEFAULT_DIRECTORY.read_text(encoding="utf-8"))
    data["departments"][0]["channels"] = [channel]
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("channel, variable", [
    ({"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${CLOSEDLOOP_ADMIN_TOKEN}"},
     "CLOSEDLOOP_ADMIN_TOKEN"),
    ({"kind": "webhook", "url": "https://oa.example.cn/hook", "secret": "${HOME}"}, "HOME"),
    ({"kind": "webhook", "url": "https://oa.example.cn/hook?db=${CLOSEDLOOP_DATABASE_URL}",
      "secret": "${CLOSEDLOOP_SECRET_OA}"}, "CLOSEDLOOP_DATABASE_URL"),
    ({"kind": "webhook", "url": "${CLOSEDLOOP_REDIS_URL}", "secret": "${CLOSEDLOOP_SECRET_OA}"},
     "CLOSEDLOOP_REDIS_URL"),
])
def test_a_reference_to_any_other_variable_is_refused_with_file_and_line(tmp_path, channel, variable):
    path = directory_with(tmp_path, channel)
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if "${" + variable + "}" in text)
    with pytest.raises(SourceErrors) as err:
        load_directory(path)
    message = str(err.value)
    assert f"d.yaml:{line}: ${{{variable}}} is not a channel secret" in message, message
    assert "CLOSEDLOOP_SECRET_" in message  # the fix: which names are allowed


def test_references_to_channel_secrets_load(tmp_path):
    url = "https://oapi.dingtalk.com/robot/send?access_token=${CLOSEDLOOP_DINGTALK_TOKEN_NR}"
    path = directory_with(tmp_path, {"kind": "dingtalk", "url": url, "secret": "${CLOSEDLOOP_DINGTALK_SECRET_NR}"})
    assert load_directory(path).departments[0].channels[0].kind == "dingtalk"


@pytest.mark.parametrize("name, allowed", [
    ("CLOSEDLOOP_SECRET_PLATFORM", True), ("CLOSEDLOOP_WECOM_LAND", True), ("CLOSEDLOOP_DINGTALK_TOKEN_NR", True),
    ("CLOSEDLOOP_WEBHOOK_SECRET", True), ("CLOSEDLOOP_ADMIN_TOKEN", False), ("CLOSEDLOOP_DATABASE_URL", False),
    ("CLOSEDLOOP_REDIS_URL", False), ("CLOSEDLOOP_SMTP_URL", False), ("CLOSEDLOOP_SECRET_", False),
    ("PATH", False), ("HOME", False), ("AWS_SECRET_ACCESS_KEY", False),
])
def test_which_names_are_channel_secrets(name, allowed):
    assert secret_var_allowed(name) is allowed


def test_no_setting_of_the_service_is_a_channel_secret():
    from pathlib import Path

    import service.config

    settings = set(re.findall(r"CLOSEDLOOP_[A-Z0-9_]+", Path(service.config.__file__).read_text(encoding="utf-8")))
    assert "CLOSEDLOOP_ADMIN_TOKEN" in settings and not any(secret_var_allowed(s) for s in settings)


def test_sending_refuses_a_variable_that_is_no_channel_secret(monkeypatch):
    """A Channel built in code never went through the loader: resolving it refuses too."""
    monkeypatch.setenv("CLOSEDLOOP_ADMIN_TOKEN", "the-admin-token")
    monkeypatch.setenv("CLOSEDLOOP_SECRET_OA", "s3")
    with pytest.raises(ConfigError) as err:
        resolve("https://evil.example/?t=${CLOSEDLOOP_ADMIN_TOKEN}")
    assert "CLOSEDLOOP_ADMIN_TOKEN" in str(err.value) and "the-admin-token" not in str(err.value)
    assert resolve("${CLOSEDLOOP_SECRET_OA}") == "s3"
