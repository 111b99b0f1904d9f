"""Wiring only: the Telegram Application (handlers, error handler, command menu) and `run_bot`,
which starts the services, the outbox sender, the announcements' follower and the scheduled jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_PAUSED
from telegram import Bot, BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.config import ConfigError, Settings, Webhook
from bot.delivery import AnnouncementFollower, OutboxSender, forward_waiting_reports
from bot.handlers import HANDLERS
from bot.handlers.flood import FloodLimiter, flood_handler
from bot.handlers.scripts import SCRIPT_GROUP, script_handler
from bot.jobs import schedule_bot_jobs
from bot.ratelimit import RateLimiter, SharedBudget
from bot.script import ScriptedBot
from bot.services import BotData, Context, Services, lang, open_services
from bot.texts import ADMIN_COMMANDS, COMMANDS, t
from bot.transport import AiohttpRequest, environment_proxy
from bot.web import Ops, serving
from storage import DatabaseFileGone, Leadership, shared_database

__all__ = ["build_application", "on_error", "register_commands", "run_bot"]

logger = logging.getLogger(__name__)

LEAD_EVERY = 10.0  # seconds between tries to lead (and checks that the lead is still held)


class _TimedApplication(Application[Any, Any, Any, Any, Any, Any]):
    """An Application that times each update from its arrival to the end of its handling: every
    handler group (script, flood, the command) and the reply; none of them sees both ends."""

    async def process_update(self, update: object) -> None:
        started = time.perf_counter()
        try:
            await super().process_update(update)
        finally:
            self.bot_data.metrics.handled(update, time.perf_counter() - started)


def build_application(settings: Settings, services: Services) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the python-telegram-bot Application: handlers, error handler, shared data."""
    if settings.token is None:
        raise ConfigError("no Telegram token: set NEWSBOT_TOKEN (or try `newsbot chat`, which needs none)")
    root = settings.telegram_api_url or "https://api.telegram.org"
    proxy = settings.telegram_proxy or environment_proxy(root)
    bot = ScriptedBot(
        settings.token.get_secret_value(),
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=AiohttpRequest(64, proxy=proxy),
        # getUpdates on connections of its own: its long poll never holds one a send waits for, and the
        # last call at a stop, which confirms the updates handled, never waits for the cut-short poll's.
        polling=AiohttpRequest(2, proxy=proxy),
    )
    builder = (
        ApplicationBuilder()
        .application_class(_TimedApplication)
        .bot(bot)
        .context_types(ContextTypes(bot_data=BotData))
        # Commands of different users do not wait for each other.
        .concurrent_updates(64)
        # Jobs run on our own APScheduler; PTB's job queue would start a second, idle one.
        .job_queue(None)
    )
    application = builder.build()
    data: BotData = application.bot_data
    data.services = services
    data.admins = frozenset(settings.admins)
    data.zone = settings.zone
    # Every update's replies are in its chat's script (bot.script): picked before anything answers.
    application.add_handler(script_handler(), SCRIPT_GROUP)
    if settings.flood.commands:
        # Group -1 runs before every command handler and can stop the update there.
        application.add_handler(flood_handler(FloodLimiter(settings.flood.commands, settings.flood.seconds)), -1)
    for handler in HANDLERS:
        application.add_handler(handler)
    application.add_error_handler(on_error)
    return application


async def on_error(update: object, context: Context) -> None:
    """Log the error first, tell the user something went wrong (never the details), then the admins
    (once per kind of error per 10 minutes: `bot.alerts`)."""
    update_id = getattr(update, "update_id", update)
    if isinstance(context.error, DatabaseFileGone):
        # Storage logged it once at ERROR; each write refused since is only this update's.
        logger.info("update %s not saved: %s", update_id, context.error)
        answer = "not_saved"
    else:
        logger.error("handling %s failed", update_id, exc_info=context.error)
        answer = "sorry"
    if isinstance(update, Update):
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):  # stops the button's spinner, unless it was answered already
                await update.callback_query.answer()
        if update.effective_message is not None:
            with contextlib.suppress(TelegramError):
                await update.effective_message.reply_text(t(lang(update), answer), do_quote=False)
    if context.error is not None:
        await context.bot_data.alerts.tell(context.bot, context.bot_data.admins, context.error, update)


async def register_commands(bot: Bot, admins: frozenset[int]) -> None:
    """Register the command menu in Chinese and English, and the admin commands for admins."""
    for language, column in ((None, 1), ("en", 2)):
        commands = [BotCommand(c[0], c[column]) for c in COMMANDS]
        await bot.set_my_commands(commands, language_code=language)
        for admin in admins:
            admin_commands = commands + [BotCommand(c[0], c[column]) for c in ADMIN_COMMANDS]
            with contextlib.suppress(TelegramError):  # an admin who never started the bot
                await bot.set_my_commands(admin_commands, scope=BotCommandScopeChat(admin), language_code=language)


async def run_bot(
    settings: Settings,
    *,
    webhook: Webhook | None = None,
    stop: asyncio.Event | None = None,
    schedule: bool = True,
    updates: bool = True,
) -> None:
    """Run the bot until SIGINT/SIGTERM (or `stop`): updates (unless `updates` is False: a second
    process that only sends), the outbox sender and, with `schedule`, the ingest and digest jobs."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services:
        application = build_application(settings, services)
        rate = settings.delivery.rate or None
        # Processes on one PostgreSQL keep Telegram's overall limit together: it is the bot's.
        together = rate and shared_database(services.sessions.kw["bind"])
        sender = OutboxSender(
            application.bot,
            services.sessions,
            RateLimiter(global_rate=rate, shared=SharedBudget(services.sessions, rate) if together else None),
            concurrency=settings.delivery.concurrency,
            max_attempts=settings.delivery.max_attempts,
            lease=timedelta(seconds=settings.delivery.lease),
        )
        application.bot_data.sender = sender
        announcements = AnnouncementFollower(application.bot, services.sessions, enqueued=sender.wake)
        application.bot_data.announcements = announcements
        scheduler = AsyncIOScheduler(timezone=settings.timezone)
        if schedule:
            schedule_bot_jobs(scheduler, services, sender)
        sending: asyncio.Task[None] | None = None

        def sender_alive() -> bool:
            return sending is not None and not sending.done()

        async with contextlib.AsyncExitStack() as stack:
            if (address := settings.web.address) is not None:
                # First: an address in use stops the start before the bot talks to Telegram.
                ops = Ops(services.sessions, application.bot_data.metrics, sender_alive)
                await stack.enter_async_context(serving(address, ops))
            # PTB closes its requests only for a bot that initialised: a failed getMe would leave ours open.
            stack.push_async_callback(application.bot.request.shutdown)
            await stack.enter_async_context(application)
            await register_commands(application.bot, frozenset(settings.admins))
            await application.start()
            stack.push_async_callback(application.stop)
            await _take_updates(application, webhook if updates else None, poll=updates)
            await forward_waiting_reports(services.sessions, frozenset(settings.admins))
            sending = asyncio.create_task(sender.run())
            following = asyncio.create_task(announcements.run())
            leading = (
                asyncio.create_task(_lead(Leadership(services.sessions.kw["bind"]), scheduler)) if schedule else None
            )
            logger.info("newsbot is running")
            try:
                await stop.wait()
            finally:
                # Stop taking updates, let in-flight sends finish, then close.
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if leading is not None:
                    leading.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await leading
                if scheduler.running:
                    scheduler.shutdown(wait=False)
                announcements.stop()
                sender.stop()
                await following
                await sending


async def _lead(leadership: Leadership, scheduler: AsyncIOScheduler, every: float = LEAD_EVERY) -> None:
    """Run the scheduled jobs while this process leads; try to lead every `every` seconds.

    Of the full processes on one PostgreSQL only the leader ingests and enqueues digests, so two
    processes never crawl twice; when it dies, another takes over within `every` seconds.
    """
    try:
        while True:
            if await leadership.take():
                if not scheduler.running:
                    jobs = ", ".join(job.name for job in scheduler.get_jobs())
                    logger.info("leading: this process runs the scheduled jobs (%s)", jobs)
                    scheduler.start()
                elif scheduler.state == STATE_PAUSED:
                    logger.info("leading again: the scheduled jobs resume")
                    scheduler.resume()
            elif scheduler.running and scheduler.state != STATE_PAUSED:
                logger.warning("no longer leading (the database connection was lost): the scheduled jobs pause")
                scheduler.pause()
            await asyncio.sleep(every)
    finally:
        await leadership.release()


async def _take_updates(
    application: Application[Any, Any, Any, Any, Any, Any], webhook: Webhook | None, *, poll: bool
) -> None:
    """Start polling, or the webhook server (which rejects calls without the secret token)."""
    assert application.updater is not None
    if webhook is not None:
        await application.updater.start_webhook(
            listen=webhook.listen,
            port=webhook.port,
            url_path=webhook.path,
            webhook_url=webhook.url,
            secret_token=webhook.secret,
        )
    elif poll:
        await application.updater.start_polling(drop_pending_updates=False)
