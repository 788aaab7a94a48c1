"""The account's thermometers and their probe slots, from device lists and status reports.

`user:device:list` is the whole account: devices missing from it are gone (with their
probes), each device's topics are taken from it verbatim. A status report updates one
device. Probe slots: the model's from the start, plus any slot an online report carries
(docked probes included). A slot missing from a report is only absent (its entities are
unavailable): reports are not trusted to remove a probe, a user may delete it
(`forget_slot`), and it comes back if it reports again.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from .models import DeviceList, ListedDevice, Probe, StatusReport

type ProbeKey = tuple[str, int]


@dataclass(slots=True)
class Thermometer:
    """One base station of the account: what the list says, and its latest report."""

    device_id: str
    listed: ListedDevice
    report: StatusReport | None = None
    slots: frozenset[int] = frozenset()

    @property
    def model(self) -> str | None:
        """Return the model code: the list's, else the latest report's."""
        return self.listed.model or (self.report.model if self.report else None)

    @property
    def online(self) -> bool:
        """Whether the latest report says the base station is online."""
        return self.report is not None and self.report.online

    def probe(self, slot: int) -> Probe | None:
        """Return the slot's probe while the latest report is online (None: offline, absent)."""
        if self.report is None or not self.report.online:
            return None
        return self.report.probe(slot)


@dataclass(frozen=True, slots=True)
class FleetChange:
    """What a list or a report changed."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    probes_added: tuple[ProbeKey, ...] = ()
    probes_removed: tuple[ProbeKey, ...] = ()
    topics_changed: bool = False


@dataclass(slots=True)
class _Delta:
    probes_added: list[ProbeKey] = field(default_factory=list)
    probes_removed: list[ProbeKey] = field(default_factory=list)


def _initial_slots(listed: ListedDevice) -> frozenset[int]:
    return frozenset(range(1, listed.probe_count + 1))


def _newer(report: StatusReport, than: StatusReport | None) -> bool:
    """Whether `report` replaces `than` (a list may carry an older lastStatusCmd)."""
    if than is None or report.server_time is None or than.server_time is None:
        return True
    return report.server_time >= than.server_time


class Fleet:
    """The thermometers of one account, keyed by deviceId."""

    def __init__(self) -> None:
        self._devices: dict[str, Thermometer] = {}
        self._topics: dict[str, str] = {}

    def __iter__(self) -> Iterator[Thermometer]:
        """Iterate over the thermometers."""
        return iter(self._devices.values())

    def __len__(self) -> int:
        """Return the number of thermometers."""
        return len(self._devices)

    def get(self, device_id: str) -> Thermometer | None:
        """Return a thermometer by deviceId."""
        return self._devices.get(device_id)

    @property
    def topics(self) -> frozenset[str]:
        """Return every device topic the lists named."""
        return frozenset(self._topics)

    def device_for_topic(self, topic: str) -> str | None:
        """Return the deviceId whose list entry named this topic."""
        return self._topics.get(topic)

    def apply_list(self, listing: DeviceList) -> FleetChange:
        """Take a whole-account device list: add, update and remove thermometers."""
        delta = _Delta()
        before = set(self._devices)
        seen: set[str] = set()
        added: list[str] = []
        updated: list[str] = []
        for listed in listing.devices:
            seen.add(listed.device_id)
            device = self._devices.get(listed.device_id)
            last = listed.last_status
            if last is not None and last.device_id != listed.device_id:
                last = None  # another device's report: not this one's
            if device is None:
                device = Thermometer(listed.device_id, listed, slots=_initial_slots(listed))
                self._devices[listed.device_id] = device
                added.append(listed.device_id)
                if last is not None:
                    # Only the slots it ends with are new: not the model's, then removed.
                    self._take_report(device, last, _Delta())
                delta.probes_added += [(device.device_id, slot) for slot in sorted(device.slots)]
                continue
            # The carried report is judged by _take_report, not as a change of the entry.
            changed = replace(device.listed, last_status=None) != replace(listed, last_status=None)
            device.listed = listed
            if last is not None and self._take_report(device, last, delta):
                changed = True
            if changed:
                updated.append(device.device_id)
        removed = sorted(before - seen)
        for device_id in removed:
            gone = self._devices.pop(device_id)
            delta.probes_removed += [(device_id, slot) for slot in sorted(gone.slots)]
        old_topics = self._topics
        self._topics = {
            topic: device.device_id
            for device in self._devices.values()
            for topic in device.listed.sub_topics
        }
        return FleetChange(
            added=tuple(added),
            removed=tuple(removed),
            updated=tuple(sorted(updated)),
            probes_added=tuple(delta.probes_added),
            probes_removed=tuple(delta.probes_removed),
            topics_changed=self._topics != old_topics,
        )

    def apply_report(self, report: StatusReport) -> FleetChange:
        """Take a live status report of a listed thermometer (others are ignored)."""
        device = self._devices.get(report.device_id)
        if device is None:
            return FleetChange()
        delta = _Delta()
        if not self._take_report(device, report, delta):
            return FleetChange()
        return FleetChange(
            updated=(device.device_id,),
            probes_added=tuple(delta.probes_added),
            probes_removed=tuple(delta.probes_removed),
        )

    @staticmethod
    def _take_report(device: Thermometer, report: StatusReport, delta: _Delta) -> bool:
        if report == device.report or not _newer(report, device.report):
            return False
        device.report = report
        if report.online and report.probes:
            slots = frozenset(probe.slot for probe in report.probes)
            delta.probes_added += [(device.device_id, s) for s in sorted(slots - device.slots)]
            device.slots |= slots
        return True

    def forget_slot(self, device_id: str, slot: int) -> bool:
        """Drop a probe slot the latest online report lacks; False while it is there.

        A thermometer that is offline or unknown says nothing about its probes: refused.
        """
        device = self._devices.get(device_id)
        if device is None or not device.online or slot not in device.slots:
            return False
        if device.probe(slot) is not None:
            return False
        device.slots -= {slot}
        return True
