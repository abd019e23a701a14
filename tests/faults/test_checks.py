"""The verdict itself, on hand-made records: each kind of failure is counted, and only real ones are.

A fault suite that reports zeros is only worth something if it would have reported the failures; these cases
pin down what counts (an unacknowledged message is not lost, the sender's own device is not a recipient, a
repeat is a duplicate and not also an order violation)."""

from __future__ import annotations

import dataclasses
import math

from tests.faults.checks import DatabaseView, Stored, Window, judge
from tests.faults.driver import Conversation, Device
from tests.faults.records import DeviceRecord

SESSION = "s-1"
CUSTOMER, AGENT = 1, 2


@dataclasses.dataclass
class FakeDevice:
    record: DeviceRecord

    def pending(self) -> int:
        return len(set(self.record.sent) - set(self.record.acked))


@dataclasses.dataclass
class FakeTraffic:
    conversations: list[Conversation]
    devices: list[Device]

    def pending(self) -> int:
        return sum(d.pending() for d in self.devices)


def world() -> tuple[FakeTraffic, DeviceRecord, DeviceRecord]:
    customer, agent = DeviceRecord(CUSTOMER, "c"), DeviceRecord(AGENT, "a")
    c, a = FakeDevice(customer), FakeDevice(agent)
    return FakeTraffic([Conversation(SESSION, c, a)], [c, a]), customer, agent


def send(sender: DeviceRecord, message_id: int, at: float, acked: bool = True) -> str:
    """The sender sends message ``message_id`` (its sequence too) at ``at``; returns its text."""
    text = f"{sender.device_id}/{message_id}"
    sender.apply("sent", {"client_msg_id": text, "session_id": SESSION, "text": text, "at": at})
    if acked:
        sender.apply("acked", {"client_msg_id": text, "message_id": message_id, "sequence": message_id, "at": at})
    return text


def show(device: DeviceRecord, message_id: int, text: str, at: float) -> None:
    device.apply("shown", {"message_id": message_id, "session_id": SESSION, "sequence": message_id, "text": text,
                           "at": at})


def db(*ids: int, status: str = "delivered", undelivered: tuple[int, ...] = ()) -> DatabaseView:
    return DatabaseView({i: Stored(SESSION, CUSTOMER, status) for i in ids}, {(AGENT, i) for i in undelivered})


def test_a_clean_run_is_all_zeros_and_recovery_is_the_first_post_fault_delivery() -> None:
    traffic, customer, agent = world()
    for i, at in ((1, 1.0), (2, 5.0), (3, 12.0)):
        show(agent, i, send(customer, i, at), at + 0.5)
    verdict = judge("x", traffic, db(1, 2, 3), window=Window(8.0, 10.0))
    assert (verdict.sent, verdict.acked, verdict.lost, verdict.duplicates, verdict.order_violations,
            verdict.receipts_lost) == (3, 3, 0, 0, 0, 0)
    assert verdict.recovery == 2.5 and verdict.settled
    assert verdict.silence == 12.5 - 8.0  # from the fault's start to the first show after it


def test_acked_but_not_shown_is_lost_unacked_is_not() -> None:
    traffic, customer, agent = world()
    show(agent, 1, send(customer, 1, 1.0), 1.5)
    send(customer, 2, 2.0)  # acked, never shown: lost
    send(customer, 3, 3.0, acked=False)  # never acked: not lost, still pending
    verdict = judge("x", traffic, db(1, 2), window=Window(0.0, 0.0))
    assert (verdict.sent, verdict.acked, verdict.lost, verdict.pending) == (3, 2, 1, 1)
    assert "never shown on a (the session's last message)" in verdict.details[0]


def test_acked_but_not_stored_is_lost() -> None:
    traffic, customer, agent = world()
    show(agent, 1, send(customer, 1, 1.0), 1.5)
    assert judge("x", traffic, db(), window=Window(0.0, 0.0)).lost == 1


def test_a_repeat_is_a_duplicate_and_a_step_back_is_an_order_violation() -> None:
    traffic, customer, agent = world()
    texts = {i: send(customer, i, float(i)) for i in (1, 2, 3)}
    for i in (1, 3, 3, 2):
        show(agent, i, texts[i], 5.0)
    verdict = judge("x", traffic, db(1, 2, 3), window=Window(0.0, 0.0))
    assert (verdict.duplicates, verdict.order_violations, verdict.lost) == (1, 1, 0)


def test_a_shown_message_whose_receipt_never_landed_is_a_lost_receipt() -> None:
    traffic, customer, agent = world()
    show(agent, 1, send(customer, 1, 1.0), 1.5)
    show(agent, 2, send(customer, 2, 2.0), 2.5)
    assert judge("x", traffic, db(1, 2, status="sent"), window=Window(0.0, 0.0)).receipts_lost == 2
    assert judge("x", traffic, db(1, 2, undelivered=(2,)), window=Window(0.0, 0.0)).receipts_lost == 1


def test_a_device_that_never_shows_a_post_fault_message_never_recovered() -> None:
    traffic, customer, agent = world()
    show(agent, 1, send(customer, 1, 1.0), 1.5)
    send(customer, 2, 11.0)
    assert math.isinf(judge("x", traffic, db(1, 2), window=Window(8.0, 10.0)).recovery)


def test_a_copy_missing_on_the_senders_other_device_is_counted_apart_from_lost() -> None:
    traffic, customer, agent = world()
    phone = DeviceRecord(CUSTOMER, "c-phone")
    traffic.devices.append(FakeDevice(phone))
    text = send(customer, 1, 1.0)
    show(agent, 1, text, 1.5)  # the recipient has it; the customer's phone never does
    verdict = judge("x", traffic, db(1), window=Window(0.0, 0.0))
    assert (verdict.lost, verdict.own_missed) == (0, 1) and not verdict.settled
    assert "own copy: message 1 seq 1 from c never shown on c-phone" in verdict.details[0]
