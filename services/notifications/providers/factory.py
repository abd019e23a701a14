"""The push providers a deployment has configured, built from its settings: each provider module's
``from_settings`` answers None when its credentials are not set (that provider is off) and raises when they are
set only in part, so a typo stops the service at start-up instead of silently pushing nothing."""

from __future__ import annotations

from collections.abc import Callable

from services.notifications.providers.apns import APNsProvider
from services.notifications.providers.base import Provider
from services.notifications.providers.fcm import FCMProvider
from services.notifications.providers.settings import PushProviderSettings
from services.notifications.providers.webpush import WebPushProvider

Factory = Callable[[PushProviderSettings], Provider | None]

FACTORIES: tuple[Factory, ...] = (APNsProvider.from_settings, FCMProvider.from_settings,
                                  WebPushProvider.from_settings)


def build_providers(settings: PushProviderSettings) -> dict[str, Provider]:
    """The configured providers by name (``apns``, ``fcm``, ``webpush``); empty when none is."""
    return {provider.name: provider for provider in (factory(settings) for factory in FACTORIES)
            if provider is not None}
