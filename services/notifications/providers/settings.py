"""The push providers' settings: one typed section the notifications service's settings embed (inherit it next
to :class:`switchboard.settings.CommonSettings`), so ``SWITCHBOARD_APNS_KEY_FILE`` and friends are read once
with the rest. How to obtain each credential: docs/push.md.

A provider is built only when its credentials are set; a provider with some but not all of them set is a
mistake that should stop the service at start-up rather than silently push nothing, hence :func:`configured`."""

from __future__ import annotations

import dataclasses

# The push services browsers use today (Chrome and Edge via FCM and WNS, Firefox, Safari): a subscription's
# endpoint is a URL the browser hands us, so sending only to these hosts keeps a forged subscription from
# turning the service into a request forwarder into our own network.
WEBPUSH_HOSTS = "fcm.googleapis.com,push.services.mozilla.com,notify.windows.com,push.apple.com"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PushProviderSettings:
    # APNs, token-based: the .p8 signing key from the Apple developer account, its key id, the team id, and the
    # app's bundle id (the apns-topic). All four, or none for no APNs.
    apns_key_file: str = ""
    apns_key_id: str = ""
    apns_team_id: str = ""
    apns_topic: str = ""
    apns_base_url: str = "https://api.push.apple.com"  # development builds: https://api.sandbox.push.apple.com
    # FCM HTTP v1: the service account's JSON key file; the project is the file's project_id unless set here.
    fcm_service_account_file: str = ""
    fcm_project_id: str = ""
    fcm_base_url: str = "https://fcm.googleapis.com"
    fcm_token_uri: str = ""  # the OAuth2 token endpoint; empty: the one the service account file names
    # Web Push: the VAPID private key (PEM file, e.g. from py-vapid's ``vapid --gen``), the contact the push
    # services may write to (``mailto:…`` or an https URL), how long a push waits for an offline browser, and the
    # push service hosts a subscription may point at (comma-separated; a name matches itself and its subdomains).
    webpush_vapid_private_key_file: str = ""
    webpush_vapid_subject: str = ""
    webpush_ttl_seconds: int = 24 * 3600
    webpush_allowed_hosts: str = WEBPUSH_HOSTS
    # All providers: a CA file trusted *instead of* the system's (the tests' loopback peers; leave empty in
    # production), the deadline of one request, and how many sends one provider has in flight at once.
    push_provider_ca_file: str = ""
    push_provider_timeout_seconds: float = 10.0
    push_provider_concurrency: int = 50

    def __post_init__(self) -> None:
        if self.push_provider_concurrency < 1 or self.push_provider_timeout_seconds <= 0:
            raise ValueError("SWITCHBOARD_PUSH_PROVIDER_CONCURRENCY must be at least 1 and "
                             "SWITCHBOARD_PUSH_PROVIDER_TIMEOUT_SECONDS above 0")


def configured(settings: PushProviderSettings, *names: str) -> bool:
    """True when every one of the settings ``names`` is set, False when none is; a partial set raises, naming
    what is missing (``SWITCHBOARD_…`` as the operator writes it)."""
    missing = [name for name in names if not getattr(settings, name)]
    if missing and len(missing) < len(names):
        raise ValueError("incomplete push provider settings: also set "
                         + ", ".join(f"SWITCHBOARD_{name.upper()}" for name in missing))
    return not missing
