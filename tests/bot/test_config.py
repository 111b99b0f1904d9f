"""Settings: file values, environment overrides, clear errors."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "NEWSBOT_CONFIG",
        "NEWSBOT_TOKEN",
        "NEWSBOT_ADMINS",
        "NEWSBOT_DATABASE_URL",
        "NEWSBOT_TELEGRAM_API_URL",
        "NEWSBOT_TELEGRAM_PROXY",
        "NEWSBOT_LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_without_a_file() -> None:
    settings = load_settings()
    assert settings.token is None
    assert settings.database_url.startswith("sqlite:")
    assert settings.admins == []


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "newsbot.toml"
    config.write_text('token = "123:file"\nadmins = [1, 2]\ndatabase_url = "sqlite:///file.db"\n', encoding="utf-8")
    monkeypatch.setenv("NEWSBOT_CONFIG", str(config))
    monkeypatch.setenv("NEWSBOT_ADMINS", "7, 8")
    monkeypatch.setenv("NEWSBOT_TELEGRAM_API_URL", "http://127.0.0.1:8081/bot")
    settings = load_settings()
    assert settings.admins == [7, 8]
    assert settings.database_url == "sqlite:///file.db"
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.token is not None
    assert settings.token.get_secret_value() == "123:file"
    assert "123:file" not in repr(settings)  # the token never shows in logs


def test_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSBOT_INGEST__WORKERS", raising=False)  # the tests' own setting (conftest.py)
    example = Path(__file__).parents[2] / "config.example.toml"
    settings = load_settings(example)
    assert settings.summary_budget == 200
    # The example states the defaults of the tables it shows.
    assert (settings.ingest.workers, settings.ingest.in_flight) == (1, 4)
    assert (settings.delivery.rate, settings.delivery.concurrency) == (25.0, 16)
    assert settings.web.address == ("127.0.0.1", 8080)


@pytest.mark.parametrize(
    ("listen", "address"), [("", None), ("0.0.0.0:9100", ("0.0.0.0", 9100)), ("[::1]:9100", ("::1", 9100))]
)
def test_the_web_address_from_the_environment(
    listen: str, address: tuple[str, int] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_WEB__LISTEN", listen)
    assert load_settings(None).web.address == address


@pytest.mark.parametrize("listen", ["8080", "localhost", "localhost:http", "localhost:70000"])
def test_an_unusable_web_address_is_refused(listen: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_WEB__LISTEN", listen)
    with pytest.raises(ConfigError, match=r"web\.listen is host:port"):
        load_settings(None)


def test_delivery_and_ingest_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DELIVERY__CONCURRENCY", "4")
    monkeypatch.setenv("NEWSBOT_INGEST__WORKERS", "2")
    settings = load_settings(None)
    assert (settings.delivery.concurrency, settings.ingest.workers) == (4, 2)
    monkeypatch.setenv("NEWSBOT_DELIVERY__CONCURRENCY", "0")
    with pytest.raises(ConfigError, match="concurrency"):
        load_settings(None)


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


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/bot/"],
)
def test_the_api_url_is_kept_as_the_servers_root(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_API_URL", url)
    assert load_settings().telegram_api_url == "http://127.0.0.1:8081"


@pytest.mark.parametrize("url", ["http://127.0.0.1:3128", "https://proxy.example:443", "socks5://u:p@127.0.0.1:1080"])
def test_a_proxy_is_taken_as_ptb_takes_it(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_PROXY", url)
    assert load_settings().telegram_proxy == url


@pytest.mark.parametrize(
    ("url", "message"), [("ftp://proxy:21", "starts with http://"), ("socks5://proxy", "needs its port")]
)
def test_an_unusable_proxy_is_refused(url: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_PROXY", url)
    with pytest.raises(ConfigError, match=f"telegram_proxy: .*{message}"):
        load_settings()


def test_the_log_level_is_info_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().log_level == "INFO"
    monkeypatch.setenv("NEWSBOT_LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"
    monkeypatch.setenv("NEWSBOT_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError, match="log_level"):
        load_settings()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "none.toml")


def test_default_source_is_the_bundled_samples() -> None:
    sources = load_settings().sources
    assert [s.name for s in sources] == ["示例"]
    folder = Path(sources[0].url)
    assert (folder / "jingzhou-2023-07-13.txt").is_file()


def test_sources_and_fetch_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        """
[[sources]]
name = "县融媒"
kind = "listpage"
url = "https://news.example.cn/list.html"
link_pattern = "/a/\\\\d+\\\\.html$"
interval = 15
contacts = [{ label = "举报电话", value = "0716-1234567" }, { label = "网上举报入口" }]

[fetch]
delay = 0.5
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("NEWSBOT_FETCH__PER_HOST", "4")
    settings = load_settings(config)
    source = settings.sources[0].to_source()
    assert source.interval.total_seconds() == 15 * 60
    assert [(c.label, c.value, str(c.kind)) for c in source.contacts or ()] == [
        ("举报电话", "0716-1234567", "phone"),
        ("网上举报入口", None, "entry"),
    ]
    fetch = settings.fetch.to_config()
    assert (fetch.delay, fetch.per_host) == (0.5, 4)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "a"\nkind = "listpage"\nurl = "https://x.cn/"', "link_pattern"),
        ('name = "a"\nkind = "rss"\nurl = "ftp://x.cn/feed"', "http"),
        ('name = "a"\nkind = "carrier-pigeon"\nurl = "https://x.cn/"', "kind"),
        ('name = "a"\nkind = "page"\nurl = "https://x.cn/"\ninterval = 0', "interval"),
    ],
)
def test_bad_sources_are_named(tmp_path: Path, table: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[[sources]]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_duplicate_source_names(tmp_path: Path) -> None:
    one = '[[sources]]\nname = "a"\nkind = "page"\nurl = "https://x.cn/1"\n'
    config = tmp_path / "c.toml"
    config.write_text(one + one, encoding="utf-8")
    with pytest.raises(ConfigError, match="two sources"):
        load_settings(config)


ROBOT = 'name = "荆州通报群"\nkind = "dingtalk"\nurl = "https://oapi.dingtalk.com/robot/send?access_token=tok-123456"\n'


def test_robots_table(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[[robots]]\n{ROBOT}secret = "SECabcdef"\ndigest_time = "08:05"\nsources = ["示例"]\nscript = "hant"\n'
        '\n[[robots]]\nname = "飞书群"\nkind = "feishu"\nurl = "https://open.feishu.cn/open-apis/bot/v2/hook/hook-id-9"\n'
        'mode = "each"\nkeywords = ["防汛"]\n',
        encoding="utf-8",
    )
    dingtalk, feishu = load_settings(config).robots
    assert (dingtalk.kind, dingtalk.digest_time, dingtalk.sources, dingtalk.script) == (
        "dingtalk",
        time(8, 5),
        ["示例"],
        "hant",
    )
    assert (dingtalk.mode, feishu.mode, feishu.digest_time, feishu.keywords) == ("digest", "each", None, ["防汛"])
    assert "tok-123456" not in repr(dingtalk) and "SECabcdef" not in repr(dingtalk)
    assert set(dingtalk.credentials()) >= {"tok-123456", "SECabcdef"}
    assert "hook-id-9" in feishu.credentials()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            ROBOT.replace("dingtalk", "slack", 1),
            r"robot '荆州通报群': kind: Input should be 'wecom', 'dingtalk' or 'feishu'",
        ),
        (
            'name = "企微群"\nkind = "wecom"\nurl = "https://qyapi.weixin.qq.com/x?key=k-1234"\nsecret = "SEC1234"\n',
            "robot '企微群': .*WeCom robot has no secret",
        ),
        (f'{ROBOT}digest_time = "8:00"\n', "robot '荆州通报群': digest_time: .*HH:MM"),
        (f'{ROBOT}digest_time = "24:00"\n', "robot '荆州通报群': digest_time"),
        (f'{ROBOT}sources = ["无此来源"]\n', "robot '荆州通报群': no source is named '无此来源'"),
        (f'{ROBOT}script = "latin"\n', "robot '荆州通报群': script"),
        (ROBOT.replace("https://oapi", "oapi"), "robot '荆州通报群': url: .*https://"),
    ],
)
def test_bad_robots_are_named(tmp_path: Path, table: str, message: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[[robots]]\n{table}", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(config)
    assert "tok-123456" not in str(caught.value) and "k-1234" not in str(caught.value)


def test_duplicate_robot_names(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[[robots]]\n{ROBOT}\n[[robots]]\n{ROBOT}", encoding="utf-8")
    with pytest.raises(ConfigError, match="two robots are named '荆州通报群'"):
        load_settings(config)
