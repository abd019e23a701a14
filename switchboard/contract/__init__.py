"""The contract, declared once: every socket.io event and every RPC with its fields, limits, the roles that may
call it and its rate class. The edge, the services and the SDK read it; docs/contract.md is generated from it."""

from switchboard.contract.events import EVENTS, MAX_PACKET_BYTES, PUSHES, RATE_CLASSES, RESERVED_EVENTS, Event
from switchboard.contract.rpcs import RPCS, Rpc

__all__ = ["EVENTS", "MAX_PACKET_BYTES", "PUSHES", "RATE_CLASSES", "RESERVED_EVENTS", "RPCS", "Event", "Rpc"]
