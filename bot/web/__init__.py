"""What `newsbot run` serves over HTTP beside the bot: /healthz and /metrics for an operator."""

from bot.web._metrics import Metrics
from bot.web._ops import Ops, serving

__all__ = ["Metrics", "Ops", "serving"]
