"""Settings: a TOML file (NEWSBOT_CONFIG or --config), overridden by NEWSBOT_* variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["ConfigError", "Settings", "load_settings"]


class ConfigError(Exception):
    """The configuration file or an environment variable is unusable."""


class Settings(BaseSettings):
    """Every setting of newsbot; see config.example.toml for what each means."""

    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", extra="forbid")

    token: SecretStr | None = None
    database_url: str = "sqlite:///newsbot.db"
    telegram_api_url: str | None = None
    admins: Annotated[list[int], NoDecode] = []
    timezone: str = "Asia/Shanghai"
    summary_budget: int = 200

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: Any) -> Any:
        """Accept NEWSBOT_ADMINS=1,2,3 as well as a TOML list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment wins over them.
        return env_settings, init_settings


def load_settings(path: Path | None = None) -> Settings:
    """Load settings from `path` (or $NEWSBOT_CONFIG, if set) and the environment.

    Raises:
        ConfigError: the file is missing or malformed, or a value is invalid.
    """
    if path is None and os.environ.get("NEWSBOT_CONFIG"):
        path = Path(os.environ["NEWSBOT_CONFIG"])
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config {path} is not valid TOML: {exc}") from exc
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
