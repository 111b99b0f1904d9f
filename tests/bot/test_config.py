"""Settings: file values, environment overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEWSBOT_CONFIG", "NEWSBOT_TOKEN", "NEWSBOT_ADMINS", "NEWSBOT_DATABASE_URL",
                 "NEWSBOT_TELEGRAM_API_URL"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_without_a_file() -> None:
    settings = load_settings()
    assert settings.token is None
    assert settings.database_url.startswith("sqlite:")
    assert settings.admins == []


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "newsbot.toml"
    config.write_text(
        'token = "123:file"\nadmins = [1, 2]\ndatabase_url = "sqlite:///file.db"\n', encoding="utf-8"
    )
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_ADMINS", "7, 8")
    monkeypatch.setenv("NEWSBOT_TELEGRAM_API_URL", "http://127.0.0.1:8081/bot")
    settings = load_settings()
    assert settings.admins == [7, 8]
    assert settings.database_url == "sqlite:///file.db"
    assert settings.telegram_api_url == "http://127.0.0.1:8081/bot"
    assert settings.token is not None
    assert settings.token.get_secret_value() == "123:file"
    assert "123:file" not in repr(settings)  # the token never shows in logs


def test_example_config_loads() -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    settings = load_settings(example)
    assert settings.summary_budget == 200


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("admins = ['x']", "admins"),
        ("colour = 'red'", "colour"),
        ("summary_budget = ", "not valid TOML"),
    ],
)
def test_invalid_settings_are_named(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "none.toml")
