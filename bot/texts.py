"""Everything the bot says, in Simplified Chinese first and English for English-speaking users.

Templates are HTML for Telegram; placeholders are filled with already-escaped values.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ADMIN_COMMANDS", "COMMANDS", "HANS", "HANT", "SCRIPTS", "language_of", "script_of", "t"]

ZH: Final = "zh"
EN: Final = "en"
# The script Chinese is shown in; a reply becomes Traditional whole, once rendered (`bot.script`),
# so every text here has its Traditional version without a second table.
HANS: Final = "hans"
HANT: Final = "hant"
SCRIPTS: Final = (HANS, HANT)
# Telegram's language codes of readers of Traditional: zh-hant (and zh-hant-tw …), Taiwan, Hong Kong, Macao.
_TRADITIONAL = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")

# (command, Chinese description, English description) — what setMyCommands registers.
COMMANDS: Final = (
    ("start", "开始使用", "Start"),
    ("latest", "最新文章", "Newest articles"),
    ("summary", "文章摘要：/summary [编号|链接|关键词]", "Summary: /summary [id|link|words]"),
    ("full", "全文：/full 编号", "Full text: /full id"),
    ("search", "全文搜索：/search 关键词", "Search: /search words"),
    ("report", "举报方式；/report 内容 提交举报", "Reporting contacts; /report text files a report"),
    ("subscribe", "订阅每日摘要：/subscribe [时:分]", "Daily digest: /subscribe [HH:MM]"),
    ("unsubscribe", "退订每日摘要", "Stop the daily digest"),
    ("digest", "现在查看下一期摘要", "Your next digest, now"),
    ("settings", "摘要时间、时区与篇数：/settings tz 时区", "Digest time, time zone and size: /settings tz ZONE"),
    ("filter", "关键词过滤：/filter 词 或 /filter -词", "Keyword filter: /filter word or -word"),
    ("sources", "新闻来源，选择摘要关注哪些", "News sources; choose those of your digest"),
    ("help", "全部命令", "All commands"),
)
ADMIN_COMMANDS: Final = (
    ("announce", "向全部订阅者发布公告", "Announce to every subscriber"),
    ("stats", "运行统计", "Statistics"),
    ("ingest", "立即抓取：/ingest [来源]", "Ingest now: /ingest [source]"),
    ("reports", "最近的举报", "Recent reports"),
    ("channel", "绑定频道：/channel @频道", "Bind a channel: /channel @name"),
)

_TEXTS: Final[dict[str, dict[str, str]]] = {
    "welcome": {
        ZH: "<b>你好，我是 newsbot。</b>\n我阅读本地党媒和政府网站的新闻，帮你提炼要点和部署要求，"
        "并在你选定的时间送上每日摘要。\n\n发送 /latest 看最新文章，/help 查看全部命令。",
        EN: "<b>Hello, I am newsbot.</b>\nI read local party-media and government news, pick out the key "
        "points and the directives, and send you a daily digest at the time you choose.\n\n"
        "Send /latest for the newest articles, /help for every command.",
    },
    "subscribe_button": {ZH: "订阅每日摘要（08:00）", EN: "Subscribe to the daily digest (08:00)"},
    "help_title": {ZH: "<b>命令</b>", EN: "<b>Commands</b>"},
    "help_admin": {ZH: "<b>管理员命令</b>", EN: "<b>Admin commands</b>"},
    "no_articles": {ZH: "还没有文章。", EN: "No articles yet."},
    "latest_title": {ZH: "<b>最新文章</b>", EN: "<b>Newest articles</b>"},
    "not_found": {ZH: "找不到编号为 {id} 的文章。", EN: "There is no article {id}."},
    "no_match": {ZH: "没有找到与“{words}”相关的文章。", EN: "Nothing found for “{words}”."},
    "bad_id": {ZH: "请给出文章编号，例如 /full 12。", EN: "Give an article id, for example /full 12."},
    "too_long": {ZH: "输入太长了（最多 {limit} 字）。", EN: "That is too long (at most {limit} characters)."},
    "foreign_host": {
        ZH: "只能摘要已配置来源的网址（{hosts}）。",
        EN: "I only summarise pages of the configured sources ({hosts}).",
    },
    "fetch_failed": {ZH: "无法读取该网页：{error}。", EN: "Could not read that page: {error}."},
    # Why a page could not be read, by what failed (`bot.render.fetch_failure`).
    "why_status": {ZH: "网站返回了错误（HTTP {status}）", EN: "the site answered with an error (HTTP {status})"},
    "why_timeout": {ZH: "网站响应超时", EN: "the site took too long to answer"},
    "why_connection": {ZH: "无法连接到网站", EN: "could not connect to the site"},
    "why_redirects": {ZH: "网页跳转次数过多", EN: "the page redirected too many times"},
    "why_blocked": {ZH: "该地址指向内部网络，不允许访问", EN: "the address leads to an internal network"},
    "why_too_large": {ZH: "网页太大", EN: "the page is too large"},
    "why_decode": {ZH: "无法识别网页的文字编码", EN: "its text encoding could not be recognised"},
    "why_parse": {ZH: "网页中没有找到文章", EN: "no article was found on it"},
    "why_other": {ZH: "读取时出错", EN: "something went wrong reading it"},
    "why_unchanged": {ZH: "它与已存的文章相同，请用 /latest 查找", EN: "it is an article stored already: see /latest"},
    "flood": {
        ZH: "你发送得太快了，请 {seconds} 秒后再试。在此之前的消息不会被处理。",
        EN: "You are sending too fast; please try again in {seconds} s. Until then your messages are ignored.",
    },
    "full_button": {ZH: "全文", EN: "Full text"},
    "back_to_summary": {ZH: "返回摘要", EN: "Back to the summary"},
    "link_button": {ZH: "原文链接", EN: "Original"},
    "contacts_button": {ZH: "举报方式", EN: "Report"},
    "prev": {ZH: "上一页", EN: "Previous"},
    "next": {ZH: "下一页", EN: "Next"},
    "more": {ZH: "更多", EN: "More"},
    "directives": {ZH: "部署要求", EN: "Directives"},
    "directive_heads": {ZH: "部署要求（{count} 项）", EN: "Directives ({count})"},
    "expand_directives": {ZH: "展开 {count} 项部署要求", EN: "All {count} directives"},
    "collapse_directives": {ZH: "收起部署要求", EN: "Fewer directives"},
    "keywords": {ZH: "关键词", EN: "Keywords"},
    "page": {ZH: "第 {page}/{pages} 页", EN: "page {page}/{pages}"},
    "contacts_title": {ZH: "<b>举报方式</b>", EN: "<b>Reporting contacts</b>"},
    "no_contacts": {ZH: "暂无举报方式。", EN: "No reporting contacts known."},
    "report_hint": {
        ZH: "如需向管理员提交举报，请发送 /report 加上内容，或回复一条消息发送 /report。",
        EN: "To file a report with the admins, send /report followed by the text, or reply to a message with /report.",
    },
    "report_ack": {
        ZH: "已收到你的举报，编号 <b>#{ticket}</b>。管理员会尽快处理。",
        EN: "Report received, ticket <b>#{ticket}</b>. The admins will look at it.",
    },
    "report_admin": {
        ZH: "<b>新举报 #{ticket}</b>\n来自 {who}\n\n{text}",
        EN: "<b>New report #{ticket}</b>\nfrom {who}\n\n{text}",
    },
    "subscribed": {
        ZH: "已订阅，每天 {time}（{zone}）送上摘要。用 /settings 调整。",
        EN: "Subscribed: a digest every day at {time} ({zone}). Adjust with /settings.",
    },
    "bad_time": {ZH: "时间格式应为 时:分，例如 /subscribe 07:30。", EN: "Use HH:MM, for example /subscribe 07:30."},
    "unsubscribed": {
        ZH: "已退订。随时可以 /subscribe 重新订阅。",
        EN: "Unsubscribed. /subscribe any time to come back.",
    },
    "not_subscribed": {ZH: "你还没有订阅，发送 /subscribe 订阅。", EN: "You are not subscribed; send /subscribe."},
    "group_admins_only": {
        ZH: "群组的订阅只能由群管理员设置。",
        EN: "Only the group's administrators can change its subscription.",
    },
    "settings": {
        ZH: "<b>设置</b>\n摘要时间：{time}（{zone}）\n每次篇数：{size}\n来源：{sources}\n过滤：{filters}\n\n"
        "用 /subscribe 时:分 修改时间，/settings tz 修改时区，/sources 选择来源，/filter 管理关键词；"
        "点击下方按钮选择每次篇数，以及简体或繁體。",
        EN: "<b>Settings</b>\nDigest time: {time} ({zone})\nArticles per digest: {size}\nSources: {sources}\n"
        "Filters: {filters}\n\nChange the time with /subscribe HH:MM, the time zone with /settings tz, the sources "
        "with /sources, keywords with /filter; tap below for the articles per digest, and Simplified (简体) or "
        "Traditional (繁體) Chinese.",
    },
    "all_sources": {ZH: "全部", EN: "all"},
    "pick_time": {ZH: "点击下方的时间更改。", EN: "Tap a time below to change it."},
    "timezone": {
        ZH: "<b>时区</b>：{zone}（现在 {now}）\n摘要按这个时区的时间送出。点击下方选择，"
        "或发送 /settings tz 时区名（IANA 名称，例如 Europe/Berlin）。",
        EN: "<b>Time zone</b>: {zone} (now {now})\nDigests go out at times of this zone. Tap one below, "
        "or send /settings tz NAME (an IANA name, for example Europe/Berlin).",
    },
    "bad_timezone": {
        ZH: "不认识时区“{zone}”。请用 IANA 名称，例如 Europe/Berlin、America/New_York。",
        EN: "Unknown time zone “{zone}”. Use an IANA name, for example Europe/Berlin or America/New_York.",
    },
    "none": {ZH: "无", EN: "none"},
    "filter_added": {ZH: "已添加过滤：{filter}", EN: "Filter added: {filter}"},
    "bad_filter": {
        ZH: "请写上要过滤的词，例如 /filter 流域 或 /filter -体育。",
        EN: "Give a word to filter on, for example /filter river or /filter -sport.",
    },
    "too_many_filters": {
        ZH: "最多设置 {limit} 个过滤词；发送 /filter 逐个删除，或 /filter clear 全部清除后再添加。",
        EN: "At most {limit} filters; remove some with /filter, or all with /filter clear, first.",
    },
    "keep_one_source": {ZH: "至少要关注一个来源。", EN: "Follow at least one source."},
    "filters_cleared": {ZH: "已清除过滤：{filters}", EN: "Filters cleared: {filters}"},
    "no_filters": {
        ZH: "没有设置过滤。用 /filter 词 只看提到它的文章，/filter -词 不看提到它的文章。",
        EN: "No filters set. /filter word keeps only articles mentioning it, /filter -word drops them.",
    },
    "filters_list": {
        ZH: "<b>过滤</b>：{filters}\n点击下方的词删除它；/filter clear 全部清除。",
        EN: "<b>Filters</b>: {filters}\nTap a word below to remove it; /filter clear removes them all.",
    },
    "remove_filter": {ZH: "✕ {filter}", EN: "✕ {filter}"},
    "sources_title": {ZH: "<b>新闻来源</b>", EN: "<b>News sources</b>"},
    "sources_follow": {
        ZH: "点击来源切换是否在你的每日摘要中关注（✓ 为关注）。",
        EN: "Tap a source to follow or unfollow it in your digest (✓ = followed).",
    },
    "sources_subscribe": {
        ZH: "订阅（/subscribe）后可在这里选择每日摘要的来源。",
        EN: "Subscribe (/subscribe) to choose your digest's sources here.",
    },
    "search_hint": {ZH: "请在 /search 后写上关键词。", EN: "Put the words after /search."},
    "search_title": {ZH: "<b>搜索：{words}</b>", EN: "<b>Search: {words}</b>"},
    "unknown_command": {
        ZH: "不认识这个命令。发送 /help 查看全部命令。",
        EN: "Unknown command. Send /help for the list.",
    },
    "free_text": {
        ZH: "发送 /summary 关键词 查找文章摘要，或 /help 查看全部命令。",
        EN: "Send /summary words to find an article's summary, or /help for every command.",
    },
    "admins_only": {ZH: "抱歉，这个命令仅限管理员使用。", EN: "Sorry, that command is for admins only."},
    "announce_hint": {
        ZH: "用法：/announce 公告内容（或回复一条消息）。",
        EN: "Usage: /announce text (or reply to a message).",
    },
    "announce_preview": {
        ZH: "<b>公告预览</b>（将发送给 {count} 位订阅者）\n\n{text}",
        EN: "<b>Announcement preview</b> (to {count} subscribers)\n\n{text}",
    },
    "send": {ZH: "发送", EN: "Send"},
    "cancel": {ZH: "取消", EN: "Cancel"},
    "cancelled": {ZH: "公告已取消。", EN: "Announcement cancelled."},
    "announce_progress": {
        ZH: "<b>公告发送中</b>：已发送 {sent}，已屏蔽 {blocked}，失败 {failed}，待发 {pending}",
        EN: "<b>Announcing</b>: sent {sent}, blocked {blocked}, failed {failed}, pending {pending}",
    },
    "announce_done": {
        ZH: "<b>公告发送完毕</b>：已发送 {sent}，已屏蔽 {blocked}，失败 {failed}",
        EN: "<b>Announcement done</b>: sent {sent}, blocked {blocked}, failed {failed}",
    },
    "announcement": {ZH: "📢 <b>公告</b>\n\n{text}", EN: "📢 <b>Announcement</b>\n\n{text}"},
    "digest_title": {ZH: "<b>每日摘要 · {date}</b>", EN: "<b>Daily digest · {date}</b>"},
    "digest_nothing": {ZH: "没有新文章。", EN: "Nothing new."},
    "digest_preview_title": {
        ZH: "<b>下一期摘要 · 截至 {time}</b>\n<i>预览：不影响定时摘要的内容。</i>",
        EN: "<b>Your next digest · as of {time}</b>\n<i>A preview: your scheduled digest still holds all of it.</i>",
    },
    "digest_more": {
        ZH: "<i>还有 {count} 篇，将在下一期摘要中送达。</i>",
        EN: "<i>{count} more, in your next digest.</i>",
    },
    "open_in_bot": {ZH: "在机器人中查看摘要", EN: "Open the summary in the bot"},
    "digest_more_button": {ZH: "现在查看其余文章", EN: "Show the rest now"},
    "stats": {
        ZH: "<b>统计</b>\n订阅者：{active} 活跃 / {total} 总数\n文章：{articles}\n最近抓取：{last_ingest}\n"
        "投递（24 小时）：已发送 {sent}，屏蔽 {blocked}，失败 {failed}，待发 {pending}\n{per_source}",
        EN: "<b>Statistics</b>\nSubscribers: {active} active / {total} total\nArticles: {articles}\n"
        "Last ingest: {last_ingest}\nDeliveries (24 h): sent {sent}, blocked {blocked}, failed {failed}, "
        "pending {pending}\n{per_source}",
    },
    "ingest_done": {
        ZH: "抓取完成：新增 {new}，更新 {updated}，重复 {duplicate}，未变 {unchanged}，非文章 {not_article}，"
        "失败 {failed}",
        EN: "Ingest done: new {new}, updated {updated}, duplicate {duplicate}, unchanged {unchanged}, "
        "not articles {not_article}, failed {failed}",
    },
    "no_source": {ZH: "没有名为“{name}”的来源。", EN: "There is no source called “{name}”."},
    "no_reports": {ZH: "还没有举报。", EN: "No reports yet."},
    "reports_title": {
        ZH: "<b>最近的举报</b>（待回复 {open}，已回复 {answered}）\n回复某条举报通知即可答复举报人。",
        EN: "<b>Recent reports</b> ({open} open, {answered} answered)\n"
        "Reply to a report's notice to answer the reporter.",
    },
    "report_open": {ZH: "待回复", EN: "open"},
    "report_answered": {ZH: "已回复 {at}", EN: "answered {at}"},
    "report_answer": {
        ZH: "<b>管理员回复了你的举报 #{ticket}</b>\n\n{answer}",
        EN: "<b>The admins answered your report #{ticket}</b>\n\n{answer}",
    },
    "answer_sent": {
        ZH: "已答复举报 #{ticket}，答复将发送给举报人。",
        EN: "Report #{ticket} answered: the reporter will be sent your answer.",
    },
    "channel_bound": {
        ZH: "已绑定频道 {channel}，新文章将发布到这里。",
        EN: "Channel {channel} bound: new articles go there.",
    },
    "channel_not_admin": {
        ZH: "请先把我设为 {channel} 的管理员，再绑定。",
        EN: "Make me an admin of {channel} first, then bind it.",
    },
    "channel_hint": {ZH: "用法：/channel @频道用户名", EN: "Usage: /channel @channelname"},
    "busy": {ZH: "请求太频繁，请稍后再试。", EN: "Too many requests; please wait a moment."},
    "sorry": {ZH: "抱歉，出了点问题，请稍后再试。", EN: "Sorry, something went wrong; please try again later."},
    "not_saved": {ZH: "暂时无法保存，请稍后再试。", EN: "That cannot be saved for now; please try again later."},
    # Errors to the admins (bot.alerts): the command and the exception's type, never what the user wrote.
    "alert": {
        ZH: "⚠️ <b>处理出错</b>\n命令：{command}\n错误：<code>{error}</code>{more}\n"
        "同类错误 10 分钟内只通知一次，详情见日志。",
        EN: "⚠️ <b>An update failed</b>\nCommand: {command}\nError: <code>{error}</code>{more}\n"
        "One message per kind of error in 10 minutes; the log has the details.",
    },
    "alert_untold": {
        ZH: "\n上次通知后又发生 {count} 次（未逐一通知）。",
        EN: "\n{count} more since the last message (not told one by one).",
    },
    "alert_button": {ZH: "按钮", EN: "a button"},
    "alert_message": {ZH: "消息（内容不显示）", EN: "a message (not shown)"},
    "alert_no_update": {ZH: "（无）", EN: "(none)"},
    "stale_button": {ZH: "这个按钮已失效。", EN: "That button has expired."},
    "edited": {
        ZH: "修改过的命令不会再次执行，请重新发送。",
        EN: "An edited command is not run again; please send it anew.",
    },
}


def language_of(code: str | None) -> str:
    """Return the language to answer in: English for English clients, Chinese otherwise."""
    return EN if code and code.lower().startswith("en") else ZH


def script_of(code: str | None) -> str:
    """Return the script a user with this Telegram language code starts in: Traditional for
    zh-Hant, zh-TW, zh-HK and zh-MO (any case, - or _), Simplified for everyone else."""
    tag = (code or "").lower().replace("_", "-")
    return HANT if any(tag == c or tag.startswith(c + "-") for c in _TRADITIONAL) else HANS


def t(lang: str, key: str, **values: object) -> str:
    """Return the text `key` in `lang` with `values` filled in (they must be escaped already)."""
    template = _TEXTS[key]
    return (template.get(lang) or template[ZH]).format(**values)
