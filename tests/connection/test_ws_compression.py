"""A client offering permessage-deflate as browsers do gets it without context takeover (the edge frees the
zlib state between messages, switchboard/ws_compression.py), and messages large and small still round-trip."""

from __future__ import annotations

from tests.support.raw import RawSocket
from tests.support.users import new_user_id


async def test_deflate_is_negotiated_without_context_takeover_and_messages_round_trip(system) -> None:
    raw = await RawSocket.open(system.edges[0].ws_url, compression="deflate")
    try:
        offered = raw.ws.request.headers["Sec-WebSocket-Extensions"]
        negotiated = raw.ws.response.headers["Sec-WebSocket-Extensions"]
        assert offered.startswith("permessage-deflate")
        assert [p.strip() for p in negotiated.split(";")] == [
            "permessage-deflate", "server_no_context_takeover", "client_no_context_takeover",
            "server_max_window_bits=12", "client_max_window_bits=12"]
        await raw.join()
        user = new_user_id()
        assert (await raw.register(user, system.token(user)))["success"]
        session_id = (await raw.call("open_session", {}))["session_id"]
        texts = ["short " * 16, "large " * 700]  # about 100 bytes and 4 KB
        for text in texts:
            assert (await raw.call("send_message", {"session_id": session_id, "message": text}))["success"]
        synced = await raw.call("sync", {"session_id": session_id})
        assert [m["text"] for m in synced["messages"]] == texts
    finally:
        await raw.close()
