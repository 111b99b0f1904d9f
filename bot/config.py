"""Settings: a TOML file (NEWSBOT_CONFIG or --config), overridden by NEWSBOT_* variables."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import time, timedelta
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from ingest import Contact, FetchConfig, Fetcher, Source, SourceKind

__all__ = [
    "ConfigError",
    "DeliverySettings",
    "FetchSettings",
    "FloodSettings",
    "RobotKind",
    "RobotSettings",
    "Settings",
    "SourceSettings",
    "WebSettings",
    "Webhook",
    "load_settings",
    "sample_source",
]

_FETCH_DEFAULTS = FetchConfig()
_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")  # what PTB's .proxy() takes


class ConfigError(Exception):
    """The configuration file or an environment variable is unusable."""


class ContactSettings(BaseModel):
    """A reporting contact the config names for a source (when its pages print none)."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1)
    value: str | None = None


class SourceSettings(BaseModel):
    """One `[[sources]]` table: where articles come from and how often to look."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    kind: SourceKind
    url: str
    interval: float = Field(30, gt=0, description="minutes between runs")
    link_pattern: str | None = None
    link_selector: str | None = None
    encoding: str | None = None
    contacts: list[ContactSettings] | None = None
    timezone: str = "Asia/Shanghai"

    @model_validator(mode="after")
    def _check(self) -> SourceSettings:
        """Build the source once, so a bad one fails at start-up with its name in the message."""
        self.to_source()
        return self

    def to_source(self) -> Source:
        """Return the ingest `Source` these settings describe."""
        contacts = None
        if self.contacts is not None:
            contacts = tuple(Contact.of(c.label, c.value) for c in self.contacts)
        return Source(
            name=self.name,
            kind=self.kind,
            url=self.url,
            interval=timedelta(minutes=self.interval),
            link_pattern=self.link_pattern,
            link_selector=self.link_selector,
            encoding=self.encoding,
            contacts=contacts,
            timezone=self.timezone,
        )


class FetchSettings(BaseModel):
    """The `[fetch]` table: identity, time-outs, size cap, retries and politeness."""

    model_config = ConfigDict(extra="forbid")

    user_agent: str = _FETCH_DEFAULTS.user_agent
    connect_timeout: float = Field(_FETCH_DEFAULTS.connect_timeout, gt=0)
    read_timeout: float = Field(_FETCH_DEFAULTS.read_timeout, gt=0)
    total_timeout: float = Field(_FETCH_DEFAULTS.total_timeout, gt=0)
    max_bytes: int = Field(_FETCH_DEFAULTS.max_bytes, gt=0)
    retries: int = Field(_FETCH_DEFAULTS.retries, ge=0)
    max_wait: float = Field(_FETCH_DEFAULTS.max_wait, ge=0)
    per_host: int = Field(_FETCH_DEFAULTS.per_host, gt=0)
    delay: float = Field(_FETCH_DEFAULTS.delay, ge=0)
    max_redirects: int = Field(_FETCH_DEFAULTS.max_redirects, ge=0)

    def to_config(self) -> FetchConfig:
        """Return the fetcher configuration."""
        return FetchConfig(**self.model_dump())


class DeliverySettings(BaseModel):
    """The `[delivery]` table: how fast and how stubbornly the outbox sends."""

    model_config = ConfigDict(extra="forbid")

    rate: float = Field(25.0, ge=0, description="messages a second overall; 0 turns the cap off")
    max_attempts: int = Field(5, ge=1, description="sends of one message before it is marked failed")
    lease: float = Field(60.0, gt=0, description="seconds before a crashed sender's claimed rows are sent again")
    concurrency: int = Field(16, ge=1, le=256, description="sends in flight at once (cap x round trip needs that many)")
    send_empty_digest: bool = False  # a "nothing new" digest when there is nothing new


class IngestSettings(BaseModel):
    """The `[ingest]` table: how much of the machine an ingest run uses."""

    model_config = ConfigDict(extra="forbid")

    workers: int = Field(1, ge=0, description="processes that summarise new articles; 0: a thread of the bot's own")
    in_flight: int = Field(
        4,
        ge=1,
        description="articles of one run fetched, summarised and stored at once: keeps a worker and this process busy",
    )


class FloodSettings(BaseModel):
    """The `[flood]` table: how many commands one user may send before the bot stops answering them."""

    model_config = ConfigDict(extra="forbid")

    commands: int = Field(20, ge=0, description="messages or button presses per `seconds`; 0 turns the limit off")
    seconds: float = Field(60.0, gt=0)


class WebSettings(BaseModel):
    """The `[web]` table: where `newsbot run` serves /healthz and /metrics."""

    model_config = ConfigDict(extra="forbid")

    listen: str = Field("127.0.0.1:8080", description='host:port; "" serves nothing')

    @field_validator("listen")
    @classmethod
    def _host_port(cls, listen: str) -> str:
        """Refuse at start-up an address the server could not bind: no port, or not a number."""
        if listen:
            host, _, port = listen.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f'web.listen is host:port, as 127.0.0.1:8080 (or "" for none), not {listen!r}')
        return listen

    @property
    def address(self) -> tuple[str, int] | None:
        """Return the host (brackets of an IPv6 one dropped) and port to serve on, None when off."""
        if not self.listen:
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class RobotKind(StrEnum):
    """The work-chat apps whose group robots take messages by webhook."""

    WECOM = "wecom"  # 企业微信
    DINGTALK = "dingtalk"  # 钉钉
    FEISHU = "feishu"  # 飞书


_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


class RobotSettings(BaseModel):
    """One `[[robots]]` table: a group robot that gets the digests and announcements by webhook.

    The whole `url` (its key, access_token or hook id) and `secret` are credentials: SecretStr,
    so neither shows in a repr or a log, and `bot.redact` masks both wherever they are printed.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    kind: RobotKind
    url: SecretStr
    secret: SecretStr | None = None  # DingTalk 加签 / Feishu 签名校验
    digest_time: time | None = None  # None: announcements (and `each` posts) only
    sources: list[str] = []  # empty: every source
    keywords: list[str] = []  # empty: every article
    script: Literal["hans", "hant"] = "hans"
    mode: Literal["digest", "each"] = "digest"

    @model_validator(mode="wrap")
    @classmethod
    def _named(cls, data: Any, handler: ModelWrapValidatorHandler[RobotSettings]) -> RobotSettings:
        """Name the robot in every problem with its table: "robots.2" alone says little among several."""
        try:
            return handler(data)
        except ValidationError as exc:
            name = data.get("name") if isinstance(data, dict) else None
            # The messages only: a problem's input may be the url or the secret.
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'robot'}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"robot {name!r}: {problems}") from None

    @field_validator("digest_time", mode="before")
    @classmethod
    def _hh_mm(cls, value: Any) -> Any:
        """Take "08:00" only: pydantic's own parsing would take "8" as 00:00:08."""
        if isinstance(value, str):
            if not (match := _HH_MM.fullmatch(value)):
                raise ValueError(f"a digest_time is HH:MM, as 08:00, not {value!r}")
            return time(int(match[1]), int(match[2]))
        return value

    @field_validator("url")
    @classmethod
    def _web_url(cls, url: SecretStr) -> SecretStr:
        """Refuse at start-up a webhook that is no http(s) URL (without echoing it: it is the key)."""
        parts = urlsplit(url.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("a robot's url is its webhook address, starting with https://")
        return url

    @model_validator(mode="after")
    def _secret_where_signed(self) -> RobotSettings:
        """Refuse a secret for WeCom: it signs nothing, and the operator likely pasted it into the wrong table."""
        if self.kind is RobotKind.WECOM and self.secret is not None:
            # Runs after `_named`: names the robot itself.
            raise ValueError(f"robot {self.name!r}: a WeCom robot has no secret (WeCom does not sign its webhooks)")
        return self

    def credentials(self) -> list[str]:
        """Return what must never be printed: the url, its key (a query value or the hook id), the secret."""
        url = self.url.get_secret_value()
        parts = urlsplit(url)
        found = [url, *(value for _, value in parse_qsl(parts.query))]
        segments = parts.path.rstrip("/").split("/")
        if "hook" in segments[:-1]:  # Feishu: /open-apis/bot/v2/hook/<id>
            found.append(segments[-1])
        if self.secret is not None:
            found.append(self.secret.get_secret_value())
        return found


def sample_source() -> SourceSettings:
    """Return the embedded default: a folder source over the sample articles shipped with newsbot."""
    folder = files("ingest") / "samples"
    return SourceSettings(name="示例", kind=SourceKind.DIR, url=str(folder), interval=60)


class Settings(BaseSettings):
    """Every setting of newsbot; see config.example.toml for what each means."""

    # NEWSBOT_FETCH__DELAY=0 sets fetch.delay.
    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_nested_delimiter="__", extra="forbid")

    token: SecretStr | None = None
    database_url: str = "sqlite:///newsbot.db"
    telegram_api_url: str | None = None  # a self-hosted Bot API server's root (see _api_root)
    telegram_proxy: str | None = None  # every Bot API call goes through it; unset: the environment's, if any
    admins: Annotated[list[int], NoDecode] = []
    timezone: str = "Asia/Shanghai"
    summary_budget: int = Field(200, gt=0)
    reply_cache: float = Field(
        5.0, ge=0, description="seconds answers to /latest, /summary, /full, /search are kept; 0: none"
    )
    sources: list[SourceSettings] = Field(default_factory=lambda: [sample_source()])
    fetch: FetchSettings = FetchSettings()
    ingest: IngestSettings = IngestSettings()
    delivery: DeliverySettings = DeliverySettings()
    flood: FloodSettings = FloodSettings()
    web: WebSettings = WebSettings()
    robots: list[RobotSettings] = []
    webhook_secret: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"  # of `newsbot run`'s log

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        """Accept NEWSBOT_LOG_LEVEL=debug as well as DEBUG."""
        return value.upper() if isinstance(value, str) else value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_root(cls, url: str | None) -> str | None:
        """Keep the server's root: accept it (``http://host:8081``) or PTB's base_url (``…/bot``).

        The example config long showed the second form while the bot appended ``/bot`` again.
        """
        if url is None:
            return None
        return url.rstrip("/").removesuffix("/bot").rstrip("/") or None

    @field_validator("telegram_proxy")
    @classmethod
    def _proxy_url(cls, url: str | None) -> str | None:
        """Refuse at start-up a proxy the bot cannot use: another scheme, no host, a socks5 port left out."""
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in _PROXY_SCHEMES or not parts.hostname:
            raise ValueError(f"a proxy URL names a host and starts with {', '.join(f'{s}://' for s in _PROXY_SCHEMES)}")
        if parts.scheme.startswith("socks") and parts.port is None:
            raise ValueError("a socks5 proxy needs its port")
        return url

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        """Refuse a time zone the system does not know, at start-up rather than at the first digest."""
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    def fetcher(self, *urls: str) -> Fetcher:
        """Return a fetcher (unopened) that may reach the local addresses the sources or ``urls`` name literally."""
        return Fetcher(self.fetch.to_config(), allow_private=[*(s.url for s in self.sources), *urls])

    @property
    def zone(self) -> ZoneInfo:
        """Return the configured time zone."""
        return ZoneInfo(self.timezone)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[SourceSettings]) -> list[SourceSettings]:
        """Refuse two sources with one name: names key their schedule and their health."""
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}")
            seen.add(source.name)
        return sources

    @model_validator(mode="after")
    def _robots_known(self) -> Settings:
        """Refuse two robots with one name (it keys their deliveries) and a robot naming no configured source."""
        names = {s.name for s in self.sources}
        seen: set[str] = set()
        for robot in self.robots:
            if robot.name in seen:
                raise ValueError(f"two robots are named {robot.name!r}")
            seen.add(robot.name)
            if unknown := [s for s in robot.sources if s not in names]:
                raise ValueError(f"robot {robot.name!r}: no source is named {', '.join(map(repr, unknown))}")
        return self

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
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid settings: {problems}") from exc


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where Telegram posts updates, and the secret it must present."""

    url: str
    secret: str
    listen: str = "0.0.0.0"
    port: int = 8443
    path: str = ""
