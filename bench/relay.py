"""The bare relay: the least a python-socketio edge can do for the bench's traffic, as the baseline.

It speaks the same events as the real edge so the same generator drives both, but does no auth, no storage and
no cross-process hop: ``register`` joins the user's room, ``open_session``/``join_session`` remember the
participants in memory, ``send_message`` emits ``new_message`` to the other participants' rooms and acks.
What the real system costs on top of this is what Switchboard adds.

Run as its own process: ``python -m bench.relay --mode sanic|asgi --port 8765``.
"""

from __future__ import annotations

import argparse
import itertools
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import socketio

MODES = ("sanic", "asgi")


def build_server(async_mode: str) -> socketio.AsyncServer:
    sio = socketio.AsyncServer(async_mode=async_mode, cors_allowed_origins="*", logger=False,
                               engineio_logger=False)
    users: dict[str, int] = {}  # sid → user id
    sessions: dict[str, set[int]] = {}  # session id → participant user ids
    message_ids = itertools.count(1)
    sequences: dict[str, itertools.count[int]] = {}

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        await sio.emit("connected", {"success": True, "socket_id": sid}, to=sid)

    @sio.event
    async def disconnect(sid: str, *args: Any) -> None:
        users.pop(sid, None)

    @sio.event
    async def register(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        user_id = int(data["user_id"])
        users[sid] = user_id
        await sio.enter_room(sid, f"u{user_id}")
        return {"success": True, "connection_id": data.get("connection_id"), "socket_id": sid}

    @sio.event
    async def open_session(sid: str, data: Any = None) -> dict[str, Any]:
        session_id = uuid.uuid4().hex
        sessions[session_id] = {users[sid]}
        sequences[session_id] = itertools.count(1)
        return {"success": True, "session_id": session_id}

    @sio.event
    async def join_session(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        sessions[data["session_id"]].add(users[sid])
        return {"success": True, "session_id": data["session_id"]}

    @sio.event
    async def send_message(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        sender, session_id = users[sid], data["session_id"]
        message_id, seq = next(message_ids), next(sequences[session_id])
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        for user_id in sessions[session_id]:
            if user_id != sender:
                payload = {"id": message_id, "session_id": session_id, "from": data.get("role"),
                           "from_user_id": sender, "to_user_id": user_id, "text": data.get("message"),
                           "timestamp": stamp, "sequence_number": seq, "offline": False,
                           "client_msg_id": data.get("client_msg_id")}
                await sio.emit("new_message", payload, room=f"u{user_id}")
        return {"success": True, "message_id": message_id, "sequence_number": seq, "time": stamp[11:16],
                "timestamp": stamp}

    @sio.event
    async def message_delivered(sid: str, data: Any) -> dict[str, Any]:
        return {"success": True}

    @sio.event
    async def heartbeat(sid: str, data: Any = None) -> dict[str, Any]:
        return {"success": True, "timestamp": time.time()}

    return sio


def serve(mode: str, host: str, port: int) -> None:
    """Block serving the relay. Sanic native attaches to a Sanic app; asgi wraps it for uvicorn."""
    if mode == "sanic":
        from sanic import Sanic

        sio = build_server("sanic")
        app = Sanic(f"relay_{port}")
        sio.attach(app)
        app.run(host=host, port=port, single_process=True, access_log=False, motd=False)
    elif mode == "asgi":
        import uvicorn

        sio = build_server("asgi")
        uvicorn.run(socketio.ASGIApp(sio), host=host, port=port, log_level="warning", lifespan="off")
    else:
        raise SystemExit(f"--mode must be one of {MODES}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__)
    parser.add_argument("--mode", choices=MODES, default="asgi")
    parser.add_argument("--host", default="127.0.0.1", help="loopback only; the bench never listens outside")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    serve(args.mode, args.host, args.port)


if __name__ == "__main__":
    main()
