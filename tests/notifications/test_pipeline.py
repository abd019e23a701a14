"""The push pipeline against a real deployment: who gets a push, what it says, how bursts collapse, reads
withdraw, and provider failures."""

from __future__ import annotations

import nats
import pytest
from prometheus_client import REGISTRY

from protos import devices_pb2
from services.notifications.providers.base import Outcome, Result
from switchboard.nats import Subjects
from switchboard.nats_auth import NOTIFICATIONS_CONSUMER
from tests.notifications.conftest import Pipeline
from tests.support.polling import eventually
from tests.support.users import SocketUser, open_conversation

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def conversation(pipeline: Pipeline) -> tuple[SocketUser, SocketUser, str, str]:
    """A customer whose phone sleeps (a push token, no socket) and whose laptop is closed too, and an agent."""
    customer, agent = await pipeline.user("user"), await pipeline.user("agent")
    session_id = await open_conversation(customer, agent)
    token = await pipeline.asleep(customer)
    await customer.close()
    return customer, agent, session_id, token


async def send(agent: SocketUser, session_id: str, text: str) -> int:
    ack = await agent.call("send_message", {"session_id": session_id, "message": text})
    assert ack["success"], ack
    return int(ack["message_id"])


async def test_an_offline_recipient_gets_one_push_with_the_message(pipeline: Pipeline) -> None:
    _, agent, session_id, token = await conversation(pipeline)
    message_id = await send(agent, session_id, "Your refund was approved")

    [push] = await eventually(lambda: pipeline.provider.to(token))
    assert (push.title, push.body, push.badge, push.silent) == ("Agent", "Your refund was approved", 1, False)
    assert push.collapse_key == session_id
    assert dict(push.data) == {"session_id": session_id, "message_id": str(message_id)}
    await pipeline.settled()
    assert len(pipeline.provider.to(token)) == 1


async def test_an_online_recipient_gets_none(pipeline: Pipeline) -> None:
    online = await pipeline.user("user", device_id="phone")
    agent = await pipeline.user("agent")
    session_id = await open_conversation(online, agent)
    online_token = f"fcm-online-{online.user_id}"
    assert (await online.call("update_push_token", {"push_token": {"provider": "fcm", "token": online_token}}))[
        "success"]
    await send(agent, session_id, "you are here")
    assert (await online.wait_for("new_message"))["text"] == "you are here"

    # A barrier: an offline customer's push, scheduled after the online one would have been, has gone out.
    _, other_agent, other_session, token = await conversation(pipeline)
    await send(other_agent, other_session, "barrier")
    await eventually(lambda: pipeline.provider.to(token))
    await pipeline.settled()
    assert pipeline.provider.to(online_token) == []


async def test_a_burst_is_one_notification_showing_the_latest(pipeline: Pipeline) -> None:
    _, agent, session_id, token = await conversation(pipeline)
    ids = [await send(agent, session_id, f"part {i}") for i in range(10)]

    await eventually(lambda: pipeline.provider.to(token))
    await pipeline.settled()
    [push] = pipeline.provider.to(token)
    assert (push.body, push.badge, push.data["message_id"]) == ("part 9", 10, str(ids[-1]))


async def test_a_message_read_on_another_device_within_the_grace_is_not_pushed(pipeline: Pipeline) -> None:
    customer, agent, session_id, token = await conversation(pipeline)
    laptop = await SocketUser(customer.url, customer.user_id, customer.token, device_id="laptop").join()
    unread_id = await send(agent, session_id, "read me now")
    await laptop.wait_for("new_message")
    assert (await laptop.call("message_read", {"message_id": unread_id}))["success"]

    _, other_agent, other_session, barrier_token = await conversation(pipeline)
    await send(other_agent, other_session, "barrier")
    await eventually(lambda: pipeline.provider.to(barrier_token))
    await pipeline.settled()
    assert pipeline.provider.to(token) == []
    await laptop.close()


async def test_a_pushed_message_read_elsewhere_is_withdrawn_silently(pipeline: Pipeline) -> None:
    customer, agent, session_id, token = await conversation(pipeline)
    message_id = await send(agent, session_id, "read me later")
    await eventually(lambda: pipeline.provider.to(token))

    laptop = await SocketUser(customer.url, customer.user_id, customer.token, device_id="laptop").join()
    await laptop.wait_for("new_message")  # the backlog at registration
    assert (await laptop.call("message_read", {"message_id": message_id}))["success"]

    alert, withdrawal = await eventually(lambda: len(pipeline.provider.to(token)) == 2 and pipeline.provider.to(token))
    assert not alert.silent and withdrawal.silent
    assert (withdrawal.collapse_key, withdrawal.badge) == (session_id, 0)
    await laptop.close()


async def test_an_invalid_token_is_cleared_and_never_tried_again(pipeline: Pipeline) -> None:
    customer, agent, session_id, token = await conversation(pipeline)
    pipeline.provider.script.append(Result(Outcome.INVALID_TOKEN, detail="UNREGISTERED"))
    await send(agent, session_id, "first")
    await eventually(lambda: pipeline.provider.to(token))

    devices = pipeline.system.devices_stub()

    async def phone_token() -> str:
        listed = await devices.ListDevices(devices_pb2.ListDevicesRequest(user_id=customer.user_id))
        return next(d.push_token for d in listed.devices if d.device_id == "phone")

    await eventually(phone_token, "")
    await send(agent, session_id, "second")
    _, other_agent, other_session, barrier_token = await conversation(pipeline)
    await send(other_agent, other_session, "barrier")
    await eventually(lambda: pipeline.provider.to(barrier_token))
    await pipeline.settled()
    assert len(pipeline.provider.to(token)) == 1


async def test_a_provider_down_then_up_delivers_once(pipeline: Pipeline) -> None:
    _, agent, session_id, token = await conversation(pipeline)
    pipeline.provider.script += [Result(Outcome.RETRY, retry_after=0.5, detail="503"),
                                 Result(Outcome.RETRY, detail="429")]
    message_id = await send(agent, session_id, "are you there?")

    await eventually(lambda: len(pipeline.provider.to(token)) == 3)
    await pipeline.settled()
    attempts = pipeline.provider.to(token)
    assert len(attempts) == 3 and {p.data["message_id"] for p in attempts} == {str(message_id)}
    [(state,)] = await pipeline.system.query(
        "SELECT state FROM push_notifications WHERE session_id = %s", session_id)
    assert state == "sent"


async def test_an_unreadable_stream_message_is_skipped_not_redelivered_forever(pipeline: Pipeline) -> None:
    admin = await nats.connect(pipeline.system.nats.admin_url)
    try:
        await admin.jetstream().publish(Subjects(pipeline.system.prefix).user_inbox(1), b"not json")
    finally:
        await admin.close()
    _, agent, session_id, token = await conversation(pipeline)
    await send(agent, session_id, "still flowing")
    await eventually(lambda: pipeline.provider.to(token))
    assert REGISTRY.get_sample_value("switchboard_notifications_messages_total", {"decision": "unreadable"}) == 1


async def test_a_batch_to_several_recipients_is_one_devices_call(pipeline: Pipeline) -> None:
    """The intake asks devices once per batch, not once per recipient (bench/RESULTS.md Session 4)."""
    conversations = [await conversation(pipeline) for _ in range(3)]
    subjects = Subjects(pipeline.system.prefix)
    admin = await nats.connect(pipeline.system.nats.admin_url)
    js = admin.jetstream()

    async def pull_requests_waiting() -> int:
        return int((await js.consumer_info(subjects.inbox_stream, NOTIFICATIONS_CONSUMER)).num_waiting or 0)

    async def stored() -> int:
        info = await js.stream_info(subjects.inbox_stream, subjects_filter=">")
        return sum(1 for customer, *_ in conversations
                   if (info.state.subjects or {}).get(subjects.user_inbox(customer.user_id)))

    await pipeline.intake.stop()  # the messages wait in the stream, to be read as one batch
    try:
        await eventually(pull_requests_waiting, 0)  # the stopped fetch's request expired: it takes none of them
        for _, agent, session_id, _ in conversations:
            await send(agent, session_id, "one of a batch")
        await eventually(stored, len(conversations))
        pipeline.devices.calls.clear()
    finally:
        pipeline.intake.start()
        await admin.close()

    for _, _, _, token in conversations:
        await eventually(lambda token=token: pipeline.provider.to(token))
    assert pipeline.devices.calls["ListPushDevices"] == 1
    assert pipeline.devices.calls["ListDevices"] == len(conversations)  # the sender's, one per due push
