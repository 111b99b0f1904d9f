"""In a group the subscription is the group's, so only its administrators change it, as group bots do."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import cast

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.services import Context, lang
from bot.texts import t

__all__ = ["chat_admins_only", "from_anonymous_admin"]

# How long a getChatMember answer is kept, per chat and user: a burst of button presses asks once,
# and a promotion or demotion takes effect within it.
_KEEP_SECONDS = 30.0
_GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
_ADMINS = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
_KEPT = "chat_admins"  # the chat_data key of {user id: (kept until, is admin)}

Handler = Callable[[Update, Context], Awaitable[None]]


def from_anonymous_admin(update: Update) -> bool:
    """Tell whether the update is a message an anonymous admin posted as the group itself.

    Only admins can post as the group (Telegram names GroupAnonymousBot as its sender, so
    getChatMember cannot tell); a linked channel's posts have the channel as sender_chat.
    """
    message, chat = update.message, update.effective_chat
    return (
        message is not None
        and chat is not None
        and message.sender_chat is not None
        and message.sender_chat.id == chat.id
    )


async def _allowed(update: Update, context: Context) -> bool:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type not in _GROUPS or from_anonymous_admin(update):
        return True
    if user is None or context.chat_data is None:
        return False
    kept = cast(dict[int, tuple[float, bool]], context.chat_data.get(_KEPT, {}))
    now = time.monotonic()
    until, admin = kept.get(user.id, (0.0, False))
    if until <= now:
        member = await context.bot.get_chat_member(chat.id, user.id)
        admin = member.status in _ADMINS
        # Expired answers go when a new one comes, so the chat keeps only recent askers.
        kept = {k: v for k, v in kept.items() if v[0] > now} | {user.id: (now + _KEEP_SECONDS, admin)}
        context.chat_data[_KEPT] = kept
    return admin


def chat_admins_only(handler: Handler) -> Handler:
    """Run `handler` in private chats, and in groups only for the group's administrators.

    Anyone else gets a short answer and nothing changes; a failed getChatMember goes to the error handler.
    """

    @functools.wraps(handler)
    async def checked(update: Update, context: Context) -> None:
        if await _allowed(update, context):
            await handler(update, context)
            return
        text = t(lang(update), "group_admins_only")
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text, do_quote=False)

    return checked
