"""Settings of the notifications service: its port and the push policy (grace, collapse window, preview,
retries), plus the providers' section (credentials, deadlines, in-flight bounds:
:class:`~services.notifications.providers.settings.PushProviderSettings`); a provider without its credentials is
off."""

from __future__ import annotations

import dataclasses

from services.notifications.providers.settings import PushProviderSettings
from switchboard.contract import RPCS
from switchboard.settings import CommonSettings, load

PREVIEWS = ("full", "private")
# A batch of messages has at most as many recipients as messages; the devices call taking them all has a limit.
MAX_BATCH_RECIPIENTS: int = RPCS["ListPushDevices"].field("user_ids").max_items


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(CommonSettings, PushProviderSettings):
    notifications_http_port: int = 8103  # /health, /ready, /metrics (the service serves nothing else)
    # How long a message may stay unseen before a device without a live socket is woken. 5 s: an app that is
    # reconnecting (a phone unlocked, a tab restored) registers and gets the backlog by itself within that, and a
    # user reading on another device marks the message read by then; longer and the phone buzzes after the
    # conversation has moved on.
    push_grace_seconds: float = 5.0
    # At most one notification per device and session per window: a burst becomes one, updated to the latest.
    push_collapse_seconds: float = 30.0
    # full: the sender and the text on the lock screen; private: push_title and "New message" only.
    push_preview: str = "full"
    # The title of a private preview and of a system message's push: your app's or your brand's name.
    push_title: str = "Support"
    # A longer text is cut (with "…") in a full preview.
    push_body_max_chars: int = 200
    # A sent notification whose message is read on another device within this long is withdrawn (silent push).
    push_withdraw_horizon_seconds: float = 3600.0
    # A provider's RETRY (429, 5xx, unreachable, timed out): again after max(Retry-After, backoff), backoff
    # doubling from the base up to the max; failed after this many attempts.
    push_retry_base_seconds: float = 2.0
    push_retry_max_seconds: float = 300.0
    push_max_attempts: int = 8
    # A push claimed by a process that died is claimed again after this lease (see store.py: 'sending').
    push_lease_seconds: float = 30.0
    # How often due pushes are looked for; at most this many messages per fetch and pushes in flight at once.
    push_poll_seconds: float = 0.2
    # At most ListPushDevices' limit: a batch's recipients are asked about in one devices call.
    push_batch: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.push_preview not in PREVIEWS:
            raise ValueError(f"SWITCHBOARD_PUSH_PREVIEW must be one of {', '.join(PREVIEWS)}")
        if not 1 <= self.push_batch <= MAX_BATCH_RECIPIENTS:
            raise ValueError(f"SWITCHBOARD_PUSH_BATCH must be between 1 and {MAX_BATCH_RECIPIENTS}")


def load_settings() -> Settings:
    return load(Settings)
