"""What the config-flow tests share: the broker form, the first steps, a form's suggestions."""

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from .broker import Mosquitto

DOMAIN = "iot_hub"


def broker_form(broker: Mosquitto, port: int | None = None, **overrides: Any) -> dict[str, Any]:
    """What a user types on the broker screen for the password listener."""
    form: dict[str, Any] = {
        "host": broker.host,
        "port": port or broker.port_password,
        "transport": "tcp",
        "ws_path": "/mqtt",
        "tls": "off",
        "username": broker.username,
        "password": broker.password,
        "keepalive": 60,
        "protocol": "3.1.1",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


async def configure(
    hass: HomeAssistant, flow_id: str, user_input: dict[str, Any] | None = None
) -> ConfigFlowResult:
    """Submit a step; a connection test (shown as progress) is waited for."""
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    if result["type"] is FlowResultType.SHOW_PROGRESS:
        assert result["progress_action"] == "connect"
        await hass.async_block_till_done()
        result = await hass.config_entries.flow.async_configure(flow_id)
    return result


async def submit(
    hass: HomeAssistant, flow_id: str, user_input: dict[str, Any] | None = None
) -> ConfigFlowResult:
    """Submit a step as `configure` does, and accept the suggested topic families."""
    result = await configure(hass, flow_id, user_input)
    if result["type"] is FlowResultType.FORM and result["step_id"] == "families":
        result = await hass.config_entries.flow.async_configure(flow_id, suggested_values(result))
    return result


async def start_broker_step(hass: HomeAssistant) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["broker", "thermomaven"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "broker"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "broker"
    return result


async def tls_step(
    hass: HomeAssistant, broker: Mosquitto, port: int, mode: str
) -> ConfigFlowResult:
    """A new broker's TLS screen, for `port` with TLS `mode`."""
    result = await start_broker_step(hass)
    result = await submit(hass, result["flow_id"], broker_form(broker, port=port, tls=mode))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tls"
    return result


def suggested_values(result: ConfigFlowResult) -> dict[str, Any]:
    """The values a form pre-fills in the browser (what it sends back if left untouched)."""
    schema = result["data_schema"]
    assert schema is not None
    values: dict[str, Any] = {}
    for marker in schema.schema:
        description = marker.description or {}
        if description.get("suggested_value") is not None:
            values[str(marker)] = description["suggested_value"]
    return values


def assert_no_secret(result: ConfigFlowResult, *secrets: str) -> None:
    """Nothing the form sends to the browser contains one of `secrets`."""
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"]
    assert schema is not None
    shown = [
        *suggested_values(result).values(),
        *(marker.default() for marker in schema.schema if callable(marker.default)),
        *(result.get("description_placeholders") or {}).values(),
    ]
    for secret in secrets:
        for value in shown:
            assert secret not in str(value), f"{result['step_id']} form carries a secret"
