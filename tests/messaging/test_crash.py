"""A replica killed in the middle of a burst: its open transactions roll back, so every acknowledged message
is stored and the session's sequence stays gap-free."""

from __future__ import annotations

import asyncio

from protos import messaging_pb2
from switchboard.errors import SwitchboardError
from switchboard.runner import free_port
from tests.messaging.conftest import Messaging, eventually


async def test_killing_a_replica_mid_burst_loses_no_acknowledged_message_and_leaves_no_gap(
    messaging: Messaging,
) -> None:
    session, customer, agent = await messaging.session()
    port = free_port()
    doomed = await messaging.system.start_service("messaging", name="messaging-doomed", grpc_port=port)
    doomed_stub = messaging.system.messaging_stub(port)

    async def send(i: int) -> messaging_pb2.SendMessageResponse | None:
        sender, role = (customer, "user") if i % 2 else (agent, "agent")
        try:
            return await messaging.send(session.session_id, sender, role=role, text=f"k{i}",
                                        stub=doomed_stub if i % 3 else messaging.stub, client_msg_id=f"kill-{i}")
        except SwitchboardError:
            return None  # the replica died under it: not acknowledged, maybe stored

    tasks = [asyncio.create_task(send(i)) for i in range(1500)]
    await eventually(lambda: sum(t.done() for t in tasks) >= 200, what="the burst under way")
    await doomed.kill()
    acknowledged = [r for r in await asyncio.gather(*tasks) if r is not None]

    rows = await messaging.query(
        "SELECT id, sequence_number FROM chat_messages WHERE session_id = %s ORDER BY sequence_number",
        session.session_id)
    assert [seq for _, seq in rows] == list(range(1, len(rows) + 1))
    assert {r.message.id for r in acknowledged} <= {msg_id for msg_id, _ in rows}
    assert await messaging.query("SELECT last_sequence FROM chat_sessions WHERE session_id = %s",
                                 session.session_id) == [(len(rows),)]
