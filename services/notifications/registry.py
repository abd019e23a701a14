"""The providers of this deployment: each provider module offers ``from_settings(settings)``, which answers None
when its credentials are not set (the provider is off). With none configured the service still runs, and
records nothing to send (intake.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from services.notifications.providers.base import Provider
from services.notifications.settings import Settings

log = logging.getLogger(__name__)

Factory = Callable[[Settings], Provider | None]

# The provider modules' factories (APNs, FCM, Web Push), in services/notifications/providers/.
FACTORIES: tuple[Factory, ...] = ()


def build(settings: Settings, factories: tuple[Factory, ...] = FACTORIES) -> dict[str, Provider]:
    providers = {p.name: p for p in (factory(settings) for factory in factories) if p is not None}
    log.info("push providers", extra={"configured": sorted(providers)})
    return providers
