"""The batch writer in-process against the real database, for what the RPCs cannot steer: which requests
share one transaction."""

from __future__ import annotations

from services.messaging.store import Store
from services.messaging.writer import BatchWriter, Outgoing, Stored
from switchboard.db import create_pool
from tests.messaging.conftest import Messaging, new_user


def outgoing(session_id: str, sender: int, client_msg_id: str | None, text: str = "hi") -> Outgoing:
    return Outgoing(session_id=session_id, sender_id=sender, sender_role="user", text=text, message_type="text",
                    reply_to_message_id=None, client_msg_id=client_msg_id)


async def test_one_batch_mixes_new_messages_duplicates_and_rejections(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    other, other_customer, _ = await messaging.session()
    earlier = (await messaging.send(session.session_id, customer, client_msg_id="seen")).message
    pool = await create_pool(messaging.system.mysql_url, 2, multi_statements=True)
    try:
        writer = BatchWriter(Store(pool), writers=1, batch_max=16)
        outcomes = await writer.write([
            outgoing(session.session_id, customer, "seen"),          # stored before
            outgoing(session.session_id, customer, "twin"),
            outgoing(other.session_id, other_customer, None),
            outgoing(session.session_id, customer, "TWIN"),          # another key: compared byte for byte
            outgoing(session.session_id, customer, "twin"),          # same key, same batch
            outgoing(session.session_id, new_user(), "x"),
            outgoing("no-such-session", customer, "y"),
            outgoing(session.session_id, customer, None, text="last"),
        ])
    finally:
        pool.close()
        await pool.wait_closed()

    seen, twin, elsewhere, twin_upper, twin_again, outsider, unknown, last = outcomes
    assert isinstance(seen, Stored) and seen.duplicate and seen.message.id == earlier.id and not seen.publish_to
    assert isinstance(twin, Stored) and not twin.duplicate and twin.publish_to == (customer, agent)
    assert isinstance(twin_again, Stored) and twin_again.duplicate and twin_again.message.id == twin.message.id
    assert isinstance(twin_upper, Stored) and not twin_upper.duplicate and twin_upper.message.id != twin.message.id
    assert isinstance(elsewhere, Stored) and elsewhere.message.sequence_number == 1
    assert getattr(outsider, "code", None) == "NOT_FOUND"  # not yours = does not exist
    assert getattr(unknown, "code", None) == "NOT_FOUND"
    assert isinstance(last, Stored) and (twin.message.sequence_number, last.message.sequence_number) == (2, 4)
