"""What the notifications pipeline hands a provider, and what a provider answers.

The pipeline decides *whether* and *what* to push (grace period, collapse window, badge, preview); a provider
only speaks its service's protocol. Its answer is one of four outcomes, so retry and token clean-up are decided
once, in the pipeline, not in each provider."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Protocol


class Outcome(enum.Enum):
    ACCEPTED = "accepted"  # the provider took it; nothing more to do
    RETRY = "retry"  # 429 / 5xx / network: try again later, no sooner than ``retry_after`` when given
    INVALID_TOKEN = "invalid_token"  # APNs 410 / BadDeviceToken, FCM UNREGISTERED, Web Push 404 / 410: forget it
    FAILED = "failed"  # a permanent refusal of this push (bad payload, auth misconfigured): do not retry


@dataclasses.dataclass(frozen=True)
class Result:
    outcome: Outcome
    retry_after: float | None = None  # seconds, from the provider's Retry-After when it sent one
    detail: str = ""  # the provider's reason, for logs and metrics labels


@dataclasses.dataclass(frozen=True)
class Push:
    """One notification for one device. ``token`` is the device's registration for this provider: an APNs
    device token, an FCM registration token, or a Web Push subscription as JSON."""

    token: str
    collapse_key: str  # one visible notification per key: the session id
    title: str  # the sender, or the deployment's generic title when previews are off
    body: str  # the text, or "New message" when previews are off
    badge: int  # the user's unread count
    data: Mapping[str, str]  # what a tap opens: session_id, message_id
    silent: bool = False  # withdraw / silence the pending notification (read elsewhere), where the provider allows


class Provider(Protocol):
    """One push service. ``name`` is ``apns``, ``fcm`` or ``webpush``: the label in metrics and the value of
    ``{provider, token}`` registrations."""

    name: str

    async def send(self, push: Push) -> Result: ...

    async def close(self) -> None: ...
