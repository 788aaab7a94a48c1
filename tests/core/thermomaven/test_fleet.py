"""Fleet: thermometers from device lists and status reports, their probe slots and topics."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import json

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.iot_hub.core.thermomaven.fleet import Fleet, FleetChange, Thermometer
from custom_components.iot_hub.core.thermomaven.messages import decode_message
from custom_components.iot_hub.core.thermomaven.models import (
    MODELS,
    DeviceList,
    ListedDevice,
    Probe,
    StatusReport,
    TemperatureUnit,
)

from . import examples

F = TemperatureUnit.FAHRENHEIT
T0 = datetime(2026, 5, 2, 12, 0, tzinfo=UTC)
G4, P1 = "216510650099999999", "216510650012434433"  # WT09 (4 slots), WT11 (1 slot)
USER_TOPIC = "app/user/291300000000000001/sub"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def topic(device_id: str, model: str | None = "WT09") -> str:
    return f"device/{model}/{device_id}/pub"


def report(
    device_id: str = G4,
    slots: tuple[int, ...] = (1, 2, 3, 4),
    *,
    online: bool = True,
    time: datetime | None = None,
    model: str | None = "WT09",
) -> StatusReport:
    probes = tuple(Probe(slot=slot, color=f"probe{slot}", target=200.0 + slot) for slot in slots)
    count = max((MODELS[model].probes if model in MODELS else 1), *slots, 1)
    return StatusReport(
        device_id=device_id,
        model=model,
        online=online,
        unit=F,
        probe_count=count,
        probes=probes,
        server_time=time,
    )


def listed(
    device_id: str = G4,
    *,
    model: str | None = "WT09",
    topics: tuple[str, ...] | None = None,
    last: StatusReport | None = None,
    name: str | None = "Smoker",
) -> ListedDevice:
    return ListedDevice(
        device_id=device_id,
        serial=f"SN{device_id[-4:]}",
        name=name,
        model=model,
        sub_topics=(topic(device_id, model),) if topics is None else topics,
        last_status=last,
    )


def device_list(*devices: ListedDevice) -> DeviceList:
    return DeviceList(user_id="291300000000000001", devices=devices)


def thermometer(fleet: Fleet, device_id: str = G4) -> Thermometer:
    device = fleet.get(device_id)
    assert device is not None
    return device


# ------------------------------------------------------------------ the account's list


def test_empty_fleet() -> None:
    fleet = Fleet()
    assert len(fleet) == 0
    assert list(fleet) == []
    assert fleet.get(G4) is None
    assert fleet.topics == frozenset()
    assert fleet.device_for_topic(topic(G4)) is None
    # An empty list of an empty fleet changes nothing.
    assert fleet.apply_list(device_list()) == FleetChange()


def test_list_adds_thermometers_with_the_slots_of_their_model() -> None:
    fleet = Fleet()
    change = fleet.apply_list(device_list(listed(G4), listed(P1, model="WT11", name="Grill")))
    assert change == FleetChange(
        added=(G4, P1),
        probes_added=((G4, 1), (G4, 2), (G4, 3), (G4, 4), (P1, 1)),
        topics_changed=True,
    )
    assert len(fleet) == 2
    assert [device.device_id for device in fleet] == [G4, P1]
    g4 = thermometer(fleet)
    assert g4.slots == frozenset({1, 2, 3, 4})
    assert g4.listed.name == "Smoker"
    assert g4.report is None
    assert not g4.online
    assert g4.probe(1) is None
    assert thermometer(fleet, P1).slots == frozenset({1})
    assert fleet.topics == frozenset({topic(G4), topic(P1, "WT11")})
    assert fleet.device_for_topic(topic(G4)) == G4
    assert fleet.device_for_topic(topic(P1, "WT11")) == P1
    assert fleet.device_for_topic(USER_TOPIC) is None


def test_unknown_model_slots_come_from_the_list_entry() -> None:
    fleet = Fleet()
    # No model, no report: one slot.
    fleet.apply_list(device_list(listed("1", model=None, topics=())))
    assert thermometer(fleet, "1").slots == frozenset({1})
    # Unknown model with an offline last report: that report's probe count.
    offline = StatusReport("2", "WT99", online=False, unit=F, probe_count=3)
    change = Fleet().apply_list(device_list(listed("2", model="WT99", last=offline)))
    assert change.probes_added == (("2", 1), ("2", 2), ("2", 3))


def test_same_list_again_updates_only_what_changed() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4), listed(P1, model="WT11")))
    assert fleet.apply_list(device_list(listed(G4), listed(P1, model="WT11"))) == FleetChange()
    change = fleet.apply_list(device_list(listed(P1, model="WT11"), listed(G4, name="Renamed")))
    assert change == FleetChange(updated=(G4,))
    assert thermometer(fleet).listed.name == "Renamed"
    assert thermometer(fleet).slots == frozenset({1, 2, 3, 4})


def test_missing_devices_are_removed_with_their_probes_and_topics() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4), listed(P1, model="WT11")))
    # A report lacking slots 2 and 4 but carrying a 5th: all five leave with the device.
    fleet.apply_report(report(G4, (1, 3, 5), time=at(1)))
    change = fleet.apply_list(device_list(listed(P1, model="WT11")))
    assert change == FleetChange(
        removed=(G4,),
        probes_removed=((G4, 1), (G4, 2), (G4, 3), (G4, 4), (G4, 5)),
        topics_changed=True,
    )
    assert fleet.get(G4) is None
    assert len(fleet) == 1
    assert fleet.topics == frozenset({topic(P1, "WT11")})
    assert fleet.device_for_topic(topic(G4)) is None
    # A report of the removed device is ignored.
    assert fleet.apply_report(report(G4, time=at(2))) == FleetChange()
    # An empty list removes everything (sorted).
    fleet.apply_list(device_list(listed(G4), listed(P1, model="WT11")))
    change = fleet.apply_list(device_list())
    assert change.removed == (P1, G4)
    assert change.probes_removed == ((P1, 1), (G4, 1), (G4, 2), (G4, 3), (G4, 4))
    assert len(fleet) == 0
    assert fleet.topics == frozenset()


def test_a_device_listed_again_starts_afresh() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    fleet.apply_report(report(G4, (2,), time=at(5)))
    fleet.apply_list(device_list())
    change = fleet.apply_list(device_list(listed(G4)))
    assert change.added == (G4,)
    assert change.probes_added == ((G4, 1), (G4, 2), (G4, 3), (G4, 4))
    assert thermometer(fleet).report is None


def test_topics_are_taken_verbatim_and_their_changes_noticed() -> None:
    fleet = Fleet()
    odd = ("device/WT09/other-name/pub", "device/WT09/216510650099999999/extra")
    assert fleet.apply_list(device_list(listed(G4, topics=odd))).topics_changed
    assert fleet.topics == frozenset(odd)
    assert fleet.device_for_topic(odd[1]) == G4
    # Same topics in another order: no change.
    assert not fleet.apply_list(device_list(listed(G4, topics=odd[::-1]))).topics_changed
    # One topic dropped.
    change = fleet.apply_list(device_list(listed(G4, topics=odd[:1])))
    assert change.topics_changed
    assert change.updated == (G4,)
    assert fleet.topics == frozenset(odd[:1])
    # No topics at all.
    assert fleet.apply_list(device_list(listed(G4, topics=()))).topics_changed
    assert fleet.topics == frozenset()
    # The same topic named by another device is a change (it maps elsewhere now).
    shared = ("device/shared/pub",)
    fleet.apply_list(device_list(listed(G4, topics=shared)))
    change = fleet.apply_list(device_list(listed(G4, topics=()), listed(P1, topics=shared)))
    assert change.topics_changed
    assert fleet.device_for_topic(shared[0]) == P1


def test_a_list_entry_carrying_an_online_report_adds_its_slots_and_removes_none() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    change = fleet.apply_list(device_list(listed(G4, last=report(G4, (2, 4), time=at(1)))))
    assert change == FleetChange(updated=(G4,))
    device = thermometer(fleet)
    assert device.online
    assert device.slots == frozenset({1, 2, 3, 4})
    probe = device.probe(2)
    assert probe is not None
    assert probe.target == 202.0
    assert device.probe(1) is None  # absent, not removed
    # A slot beyond the model is added; the missing model slots stay.
    change = fleet.apply_list(device_list(listed(G4, last=report(G4, (4, 6), time=at(2)))))
    assert change == FleetChange(updated=(G4,), probes_added=((G4, 6),))
    assert device.slots == frozenset({1, 2, 3, 4, 6})
    # The same entry again (an equal report): nothing changed.
    assert fleet.apply_list(device_list(listed(G4, last=report(G4, (4, 6), time=at(2))))) == (
        FleetChange()
    )


def test_a_new_device_whose_report_carries_extra_slots() -> None:
    fleet = Fleet()
    change = fleet.apply_list(
        device_list(listed(P1, model="WT11", last=report(P1, (1, 2), model="WT11")))
    )
    assert change.added == (P1,)
    assert change.probes_added == ((P1, 1), (P1, 2))
    assert change.probes_removed == ()
    assert thermometer(fleet, P1).slots == frozenset({1, 2})


def test_a_new_device_whose_report_lacks_model_slots_announces_them_all() -> None:
    fleet = Fleet()
    change = fleet.apply_list(device_list(listed(G4, last=report(G4, (1, 2), time=at(1)))))
    device = thermometer(fleet)
    assert device.slots == frozenset({1, 2, 3, 4})
    assert change.probes_added == ((G4, 1), (G4, 2), (G4, 3), (G4, 4))
    assert change.probes_removed == ()
    assert device.probe(1) is not None
    assert device.probe(3) is None  # absent


# ------------------------------------------------------------------ status reports


def test_online_reports_add_slots_and_never_remove_them() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    device = thermometer(fleet)
    # Slots 2 and 4 missing: only absent.
    change = fleet.apply_report(report(G4, (1, 3), time=at(1)))
    assert change == FleetChange(updated=(G4,))
    assert device.slots == frozenset({1, 2, 3, 4})
    assert device.probe(1) is not None
    assert device.probe(2) is None
    # They report again: present, nothing to add.
    assert fleet.apply_report(report(G4, (1, 2, 3, 4), time=at(2))) == FleetChange(updated=(G4,))
    assert device.probe(2) is not None
    # A slot beyond the model is added, the ones missing stay.
    change = fleet.apply_report(report(G4, (1, 5), time=at(4)))
    assert change == FleetChange(updated=(G4,), probes_added=((G4, 5),))
    assert device.slots == frozenset({1, 2, 3, 4, 5})
    assert device.probe(5) is not None
    assert device.probe(3) is None
    # The change tuples are never the mutable lists behind them.
    assert isinstance(change.probes_added, tuple)
    assert isinstance(change.probes_removed, tuple)
    # The same report again (equal) changes nothing.
    assert fleet.apply_report(report(G4, (1, 5), time=at(4))) == FleetChange()


def test_offline_reports_change_no_slot() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    fleet.apply_report(report(G4, (1, 2), time=at(1)))
    offline = report(G4, (), online=False, time=at(2))
    assert fleet.apply_report(offline) == FleetChange(updated=(G4,))
    device = thermometer(fleet)
    assert device.report is offline
    assert not device.online
    assert device.slots == frozenset({1, 2, 3, 4})
    assert device.probe(1) is None  # the latest report is offline
    # An offline report carrying probes changes no slot either.
    assert fleet.apply_report(report(G4, (5,), online=False, time=at(3))) == FleetChange(
        updated=(G4,)
    )
    assert device.slots == frozenset({1, 2, 3, 4})
    assert device.probe(5) is None
    # Online again: its new slot is added.
    change = fleet.apply_report(report(G4, (1, 2, 5), time=at(4)))
    assert change == FleetChange(updated=(G4,), probes_added=((G4, 5),))
    assert device.slots == frozenset({1, 2, 3, 4, 5})
    assert device.online  # last: mypy narrowed `online` above


def test_an_online_report_without_probes_keeps_the_slots() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    fleet.apply_report(report(G4, (2, 5), time=at(1)))
    empty = report(G4, (), time=at(2))
    assert fleet.apply_report(empty) == FleetChange(updated=(G4,))
    device = thermometer(fleet)
    assert device.report is empty
    assert device.online
    assert device.slots == frozenset({1, 2, 3, 4, 5})
    assert device.probe(5) is None  # slot kept, but the latest report does not carry it


def test_reports_of_unlisted_devices_are_ignored() -> None:
    fleet = Fleet()
    assert fleet.apply_report(report(G4)) == FleetChange()
    fleet.apply_list(device_list(listed(P1, model="WT11")))
    assert fleet.apply_report(report(G4)) == FleetChange()
    assert fleet.get(G4) is None
    assert thermometer(fleet, P1).report is None


# ------------------------------------------------------------------ which report wins


def test_an_older_report_is_ignored() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    newer = report(G4, (1,), time=at(10))
    fleet.apply_report(newer)
    # An older report adds none of its slots.
    assert fleet.apply_report(report(G4, (1, 5), time=at(9))) == FleetChange()
    assert thermometer(fleet).report is newer
    assert thermometer(fleet).slots == frozenset({1, 2, 3, 4})
    # Same server time: the later message replaces.
    same = report(G4, (2, 5), time=at(10))
    assert fleet.apply_report(same) == FleetChange(updated=(G4,), probes_added=((G4, 5),))
    assert thermometer(fleet).report is same
    # An equal one again changes nothing (the report kept is the first).
    assert fleet.apply_report(report(G4, (2, 5), time=at(10))) == FleetChange()
    assert thermometer(fleet).report is same


def test_an_equal_untimed_report_again_changes_nothing() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    first = report(G4, (1, 5))
    assert fleet.apply_report(first) == FleetChange(updated=(G4,), probes_added=((G4, 5),))
    assert fleet.apply_report(report(G4, (1, 5))) == FleetChange()
    assert thermometer(fleet).report is first
    # Another untimed report still replaces.
    assert fleet.apply_report(report(G4, (1,))) == FleetChange(updated=(G4,))


def test_a_list_may_carry_an_older_report_than_the_live_one() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    live = report(G4, (1, 2, 3), time=at(100))
    fleet.apply_report(live)
    # An older online one adds none of its slots.
    change = fleet.apply_list(device_list(listed(G4, last=report(G4, (6,), time=at(50)))))
    assert change == FleetChange()  # an older report carried is no change of the entry
    assert thermometer(fleet).slots == frozenset({1, 2, 3, 4})
    stale = report(G4, (), online=False, time=at(50))
    change = fleet.apply_list(device_list(listed(G4, last=stale, name="New name")))
    # Still an update of the list entry, but the live report stays.
    assert change == FleetChange(updated=(G4,))
    device = thermometer(fleet)
    assert device.report is live
    assert device.online
    assert device.listed.name == "New name"
    # A newer one in the list is taken: its new slot added, none removed.
    fresh = report(G4, (4, 5), time=at(101))
    change = fleet.apply_list(device_list(listed(G4, last=fresh)))
    assert change == FleetChange(updated=(G4,), probes_added=((G4, 5),))
    assert device.report is fresh
    assert device.slots == frozenset({1, 2, 3, 4, 5})


@pytest.mark.parametrize(
    ("first", "second"),
    [(None, at(1)), (at(1), None), (None, None), (at(5), at(-5))],
    ids=["untimed-then-timed", "timed-then-untimed", "both-untimed", "then-older"],
)
def test_reports_without_a_server_time_always_replace(
    first: datetime | None, second: datetime | None
) -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    fleet.apply_report(report(G4, (1,), time=first))
    second_report = report(G4, (5,), time=second)
    change = fleet.apply_report(second_report)
    replaced = first is None or second is None
    assert (change.updated == (G4,)) is replaced
    assert change.probes_added == (((G4, 5),) if replaced else ())
    assert (thermometer(fleet).report is second_report) is replaced
    assert thermometer(fleet).slots == frozenset({1, 2, 3, 4, 5} if replaced else {1, 2, 3, 4})


# ------------------------------------------------------------------ real envelopes


def decode_list(payload: bytes) -> DeviceList:
    message = decode_message(USER_TOPIC, payload)
    assert isinstance(message, DeviceList)
    return message


def decode_report(payload: bytes) -> StatusReport:
    message = decode_message(topic(G4), payload)
    assert isinstance(message, StatusReport)
    return message


def test_the_protocol_examples_end_to_end() -> None:
    fleet = Fleet()
    change = fleet.apply_list(decode_list(examples.DEVICE_LIST))
    assert change == FleetChange(
        added=(P1, G4),
        probes_added=((P1, 1), (G4, 1), (G4, 2), (G4, 3), (G4, 4)),
        topics_changed=True,
    )
    assert fleet.topics == frozenset({topic(P1, "WT11"), topic(G4)})
    assert fleet.device_for_topic(topic(G4)) == G4
    # WT11: online last report, its docked probe carries a target.
    p1 = thermometer(fleet, P1)
    assert p1.online
    docked = p1.probe(1)
    assert docked is not None
    assert docked.docked
    assert docked.target == 203.0
    # WT09: offline last report, the model's four slots.
    g4 = thermometer(fleet)
    assert not g4.online
    assert g4.slots == frozenset({1, 2, 3, 4})
    assert g4.probe(1) is None

    status = decode_report(examples.STATUS_REPORT)
    assert fleet.apply_report(status) == FleetChange(updated=(G4,))
    assert thermometer(fleet).online
    brisket = g4.probe(1)
    assert brisket is not None
    assert brisket.notes == "Brisket"
    assert brisket.temperature == 160.5
    assert g4.probe(3) is not None

    # The list again: its lastStatusCmd of the G4 is older than the live report, and the
    # WT11's is the one it has: nothing changed.
    assert fleet.apply_list(decode_list(examples.DEVICE_LIST)) == FleetChange()
    assert g4.report is status

    # A list without the G4 removes it and its topic.
    data = json.loads(examples.DEVICE_LIST)
    data["cmdData"]["devices"] = data["cmdData"]["devices"][:1]
    change = fleet.apply_list(decode_list(json.dumps(data).encode()))
    assert change.removed == (G4,)
    assert change.probes_removed == ((G4, 1), (G4, 2), (G4, 3), (G4, 4))
    assert change.topics_changed
    assert fleet.topics == frozenset({topic(P1, "WT11")})
    # The G4's next report is ignored.
    assert fleet.apply_report(status) == FleetChange()


def test_an_example_report_with_two_slots_leaves_the_others_absent() -> None:
    data = json.loads(examples.STATUS_REPORT)
    data["cmdData"]["probes"] = data["cmdData"]["probes"][1:3]  # probe2, probe3
    fleet = Fleet()
    fleet.apply_list(decode_list(examples.DEVICE_LIST))
    change = fleet.apply_report(decode_report(json.dumps(data).encode()))
    assert change == FleetChange(updated=(G4,))
    g4 = thermometer(fleet)
    assert g4.slots == frozenset({1, 2, 3, 4})
    assert g4.probe(1) is None
    assert g4.probe(2) is not None
    assert g4.probe(4) is None
    # An offline report (only globalStatus) keeps them.
    offline = {"cmdType": "WT09:status:report", "deviceId": G4, "serverTime": 1777700020000}
    offline["cmdData"] = {"globalStatus": "offline"}
    change = fleet.apply_report(decode_report(json.dumps(offline).encode()))
    assert change == FleetChange(updated=(G4,))
    assert g4.slots == frozenset({1, 2, 3, 4})


# ------------------------------------------------------------------ properties


def replaces(new: StatusReport, old: StatusReport | None) -> bool:
    """The rule: server times decide; a missing time (either side) always replaces."""
    if new == old:
        return False  # the same report again changes nothing
    if old is None or new.server_time is None or old.server_time is None:
        return True
    return new.server_time >= old.server_time


SLOTS = st.frozensets(st.integers(1, 6), max_size=6)
# (kind, online, slots, server time in seconds or None)
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["report", "report", "list"]),
        st.booleans(),
        SLOTS,
        st.none() | st.integers(0, 20),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(model=st.sampled_from(["WT09", "WT11", None]), events=EVENTS)
def test_slots_gather_the_model_and_every_online_report_with_probes(
    model: str | None, events: list[tuple[str, bool, frozenset[int], int | None]]
) -> None:
    """Slots: the model's, plus the slots of every online report taken; never fewer.

    The changes, replayed in order on a set, always track the slots; no probe is removed
    until the device leaves a list, and then all of them are. Only a change of the list
    entry or of the report is an update. (A new device's first list carries no report
    here: see the tests above.)
    """
    fleet = Fleet()
    entry = listed(G4, model=model)
    change = fleet.apply_list(device_list(entry))
    device = thermometer(fleet)
    expected = set(range(1, (MODELS[model].probes if model else 1) + 1))
    tracked = {slot for _, slot in change.probes_added}
    current: StatusReport | None = None
    for kind, online, slots, seconds in events:
        time = None if seconds is None else at(seconds)
        new = report(G4, tuple(sorted(slots)), online=online, time=time, model=model)
        if kind == "list":
            before, entry = entry, listed(G4, model=model, last=new)
            change = fleet.apply_list(device_list(entry))
        else:
            change = fleet.apply_report(new)
        if taken := replaces(new, current):
            current = new
            if online:
                expected |= slots
        assert device.report is current
        assert device.slots == expected
        assert change.probes_removed == ()
        tracked |= {slot for _, slot in change.probes_added}
        assert tracked == expected
        if kind == "list":
            same = replace(entry, last_status=None) == replace(before, last_status=None)
            assert change.updated == ((G4,) if taken or not same else ())
        else:
            assert change.updated == ((G4,) if taken else ())
    change = fleet.apply_list(device_list())
    assert change.probes_removed == tuple((G4, slot) for slot in sorted(expected))


def test_a_list_entry_carrying_another_devices_report_ignores_it() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4, last=report(P1, (1,), time=at(1)))))
    assert thermometer(fleet).report is None
    assert thermometer(fleet).slots == frozenset({1, 2, 3, 4})


# ------------------------------------------------------------------ forgetting a slot


def test_forget_slot_of_an_unknown_device_is_refused() -> None:
    fleet = Fleet()
    assert not fleet.forget_slot(G4, 1)
    fleet.apply_list(device_list(listed(P1, model="WT11")))
    fleet.apply_report(report(P1, (), time=at(1), model="WT11"))
    assert not fleet.forget_slot(G4, 1)
    # Nor once the device has left the list.
    fleet.apply_list(device_list(listed(G4)))
    fleet.apply_report(report(G4, (1,), time=at(1)))
    fleet.apply_list(device_list())
    assert not fleet.forget_slot(G4, 2)


def test_forget_slot_of_a_device_not_online_is_refused() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    device = thermometer(fleet)
    # No report yet.
    assert not fleet.forget_slot(G4, 2)
    # An offline report, even after an online one lacking the slot.
    fleet.apply_report(report(G4, (1,), time=at(1)))
    fleet.apply_report(report(G4, (), online=False, time=at(2)))
    assert not fleet.forget_slot(G4, 2)
    assert device.slots == frozenset({1, 2, 3, 4})


def test_forget_slot_of_a_present_probe_is_refused() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    fleet.apply_report(report(G4, (1, 2), time=at(1)))
    assert not fleet.forget_slot(G4, 2)
    assert thermometer(fleet).slots == frozenset({1, 2, 3, 4})


def test_forget_slot_of_an_absent_probe_drops_it_until_it_reports_again() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    device = thermometer(fleet)
    fleet.apply_report(report(G4, (1, 5), time=at(1)))
    assert fleet.forget_slot(G4, 3)
    assert device.slots == frozenset({1, 2, 4, 5})
    # Online reports lacking it (the same one, a newer one) do not bring it back.
    assert fleet.apply_report(report(G4, (1, 5), time=at(1))) == FleetChange()
    assert fleet.apply_report(report(G4, (1,), time=at(2))) == FleetChange(updated=(G4,))
    # A slot beyond the model, absent now, may be forgotten too.
    assert fleet.forget_slot(G4, 5)
    assert device.slots == frozenset({1, 2, 4})
    # An offline report carrying it does not bring it back.
    fleet.apply_report(report(G4, (3,), online=False, time=at(3)))
    assert device.slots == frozenset({1, 2, 4})
    # An online report carrying it does: announced as added.
    change = fleet.apply_report(report(G4, (1, 3), time=at(4)))
    assert change == FleetChange(updated=(G4,), probes_added=((G4, 3),))
    assert device.slots == frozenset({1, 2, 3, 4})
    # So does a list's newer lastStatusCmd.
    change = fleet.apply_list(device_list(listed(G4, last=report(G4, (1, 5), time=at(5)))))
    assert change == FleetChange(updated=(G4,), probes_added=((G4, 5),))
    assert device.slots == frozenset({1, 2, 3, 4, 5})
    # A forgotten slot is not removed again with the device.
    assert fleet.forget_slot(G4, 2)
    change = fleet.apply_list(device_list())
    assert change.probes_removed == ((G4, 1), (G4, 3), (G4, 4), (G4, 5))


def test_forget_slot_while_the_online_report_carries_no_probe() -> None:
    fleet = Fleet()
    fleet.apply_list(device_list(listed(G4)))
    fleet.apply_report(report(G4, (), time=at(1)))
    assert fleet.forget_slot(G4, 4)
    assert thermometer(fleet).slots == frozenset({1, 2, 3})
    # Listed afresh after leaving: the model's slots again.
    fleet.apply_list(device_list())
    change = fleet.apply_list(device_list(listed(G4)))
    assert change.probes_added == ((G4, 1), (G4, 2), (G4, 3), (G4, 4))
