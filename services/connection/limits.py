"""Rate limits for every client event: a token bucket per socket and one per user on this node, for each rate
class of the contract (:data:`switchboard.contract.RATE_CLASSES`). A socket alone cannot exceed its class's
rate; a user's sockets together cannot exceed ``user_rate_multiplier`` times it, however many it opens. Past
either, the event is answered ``RATE_LIMITED`` and costs nothing downstream.

Per user is per edge node: a user's sockets spread over N nodes get N times the user budget (sticky routing
usually keeps a user's sockets together; the socket budget holds everywhere)."""

from __future__ import annotations

import dataclasses

from switchboard.contract import RATE_CLASSES
from switchboard.errors import RateLimited


@dataclasses.dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: float


class Bucket:
    """Tokens left and when they were counted. Full when created."""

    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens, self.stamp = tokens, stamp

    def take(self, rate: Rate, now: float) -> bool:
        tokens = min(rate.burst, self.tokens + (now - self.stamp) * rate.per_second)
        self.stamp = now
        if tokens < 1:
            self.tokens = tokens
            return False
        self.tokens = tokens - 1
        return True


Buckets = dict[str, Bucket]


class Limits:
    def __init__(self, socket_rates: dict[str, Rate], user_multiplier: float) -> None:
        missing = set(RATE_CLASSES) - set(socket_rates)
        if missing:
            raise ValueError(f"no rate configured for {sorted(missing)}")
        self._socket = socket_rates
        self._user = {name: Rate(r.per_second * user_multiplier, r.burst * user_multiplier)
                      for name, r in socket_rates.items()}
        self._users: dict[int, Buckets] = {}

    def take(self, socket_buckets: Buckets, user_id: int | None, rate_class: str, now: float) -> None:
        """Spend one event of ``rate_class`` for the socket (and its user, once known), or raise
        :class:`RateLimited`."""
        rate = self._socket[rate_class]
        bucket = socket_buckets.get(rate_class)
        if bucket is None:
            bucket = socket_buckets[rate_class] = Bucket(rate.burst, now)
        if not bucket.take(rate, now):
            raise RateLimited(f"more than {rate.per_second:g} {rate_class} events per second; slow down")
        if user_id is None:
            return
        user_rate = self._user[rate_class]
        user_buckets = self._users.get(user_id)
        if user_buckets is None:
            user_buckets = self._users[user_id] = {}
        user_bucket = user_buckets.get(rate_class)
        if user_bucket is None:
            user_bucket = user_buckets[rate_class] = Bucket(user_rate.burst, now)
        if not user_bucket.take(user_rate, now):
            bucket.tokens += 1  # not spent: the user's budget refused it
            raise RateLimited(f"more than {user_rate.per_second:g} {rate_class} events per second for this user")

    def forget_user(self, user_id: int) -> None:
        """The user's last socket on this node closed."""
        self._users.pop(user_id, None)
