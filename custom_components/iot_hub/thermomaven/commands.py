"""Cook commands of a probe: sent through REST, judged by their MQTT receipt.

The cloud's "0" only means queued; a command is done when the device's
`device:cmd:receipt` with its cmdId says so. Until then the probe's climate entity shows
the new target optimistically; a refusal or silence reverts it with a translated error.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging
from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from ..const import DOMAIN
from ..core.thermomaven.commands import Command, change_target, end_cook, start_cook
from ..core.thermomaven.errors import ThermoMavenError
from ..core.thermomaven.fleet import ProbeKey, Thermometer
from ..core.thermomaven.models import CommandReceipt
from .account import AccountSession

_LOGGER = logging.getLogger(__name__)

RECEIPT_TIMEOUT: Final = 20.0
# Pending commands kept at most (a receipt that never comes must not grow memory).
MAX_PENDING: Final = 64


@dataclass(slots=True)
class _Pending:
    key: ProbeKey
    future: asyncio.Future[CommandReceipt]


def _error(key: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


class CookCommands:
    """Send cook commands and wait for their receipts; remember optimistic targets."""

    def __init__(self, session: AccountSession) -> None:
        self._session = session
        self._pending: dict[str, _Pending] = {}
        # Optimistic targets, and whether the device's receipt accepted them.
        self._targets: dict[ProbeKey, tuple[float, bool]] = {}

    def target(self, key: ProbeKey) -> float | None:
        """Return the target being set on a probe (None: show the reported one)."""
        wanted = self._targets.get(key)
        return None if wanted is None else wanted[0]

    def receipt(self, receipt: CommandReceipt) -> None:
        """Hand a receipt to the command waiting for it (others are ignored)."""
        if receipt.cmd_id is None or (pending := self._pending.get(receipt.cmd_id)) is None:
            return
        if not pending.future.done():
            pending.future.set_result(receipt)

    def reported(self, key: ProbeKey, target: float | None) -> None:
        """Drop the optimistic target when a report follows its acceptance, or agrees with it.

        Before the receipt a report may predate the command; after it, the report is the truth.
        """
        if (wanted := self._targets.get(key)) is None:
            return
        value, accepted = wanted
        if accepted or (target is not None and round(target) == round(value)):
            del self._targets[key]

    async def set_target(
        self, device: Thermometer, slot: int, target: float, on_change: Callable[[], None]
    ) -> None:
        """Start a cook with this target, or change the running cook's target.

        `on_change` is called when the optimistic target is shown and when it is reverted.
        """
        probe = device.probe(slot)
        model = device.model
        if probe is None or model is None or probe.docked:
            raise probe_unavailable(slot)
        try:
            if probe.cooking and probe.cook_uuid:
                command = change_target(
                    device.device_id,
                    model,
                    f"probe{slot}",
                    target=target,
                    cook_uuid=probe.cook_uuid,
                    start_client=probe.start_client,
                    cooking_mode=probe.cooking_mode,
                )
            else:
                command = start_cook(device.device_id, model, f"probe{slot}", target=target)
        except ValueError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_target",
                translation_placeholders={"target": str(target)},
            ) from err
        key = (device.device_id, slot)
        self._targets[key] = (target, False)
        on_change()
        try:
            await self._run(key, command)
        except BaseException:
            self._targets.pop(key, None)
            on_change()
            raise
        if key in self._targets:
            self._targets[key] = (target, True)

    async def stop(self, device: Thermometer, slot: int) -> None:
        """Stop the probe's running cook (nothing to do when it is not cooking)."""
        probe = device.probe(slot)
        model = device.model
        if probe is None or model is None:
            raise probe_unavailable(slot)
        if not probe.cooking or not probe.cook_uuid:
            return
        command = end_cook(device.device_id, model, f"probe{slot}", cook_uuid=probe.cook_uuid)
        await self._run((device.device_id, slot), command)

    async def _run(self, key: ProbeKey, command: Command) -> None:
        if len(self._pending) >= MAX_PENDING:
            raise _error("command_busy")
        future: asyncio.Future[CommandReceipt] = asyncio.get_running_loop().create_future()
        # Registered before sending: the receipt may beat the REST answer.
        pending = self._pending[command.cmd_id] = _Pending(key, future)
        ids = [command.cmd_id]
        try:
            try:
                returned = await self._session.call(lambda api: api.send_command(command))
            except ThermoMavenError as err:
                _LOGGER.debug("Command %s not sent: %s", command.cmd_type, err)
                raise _error("command_not_sent") from err
            if returned != command.cmd_id:
                # The cloud named the command itself: its receipt carries that id.
                self._pending[returned] = pending
                ids.append(returned)
            try:
                async with asyncio.timeout(RECEIPT_TIMEOUT):
                    receipt = await future
            except TimeoutError as err:
                raise _error("command_no_receipt", seconds=str(int(RECEIPT_TIMEOUT))) from err
        finally:
            for cmd_id in ids:
                self._pending.pop(cmd_id, None)
        if not receipt.success:
            code = receipt.cmd_error if receipt.cmd_error is not None else receipt.error_code
            raise _error("command_refused", code=str(code))


def probe_unavailable(slot: int) -> HomeAssistantError:
    """Return the error for a command to a probe that is not reporting."""
    return _error("probe_unavailable", probe=str(slot))
