"""dashboards/iot_hub.yaml: core cards, our entity ids, and actions that exist with their fields."""

from collections.abc import Callable, Iterator
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.template import Template
from homeassistant.util import slugify
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events
import yaml

from custom_components.iot_hub.broker.runtime import BrokerRuntime
from custom_components.iot_hub.thermomaven.runtime import ThermoMavenRuntime

from .broker import Mosquitto
from .helpers import setup_entry, wait_for_state, wait_for_value

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "dashboards" / "iot_hub.yaml"
INTEGRATION = ROOT / "custom_components" / "iot_hub"
PLATFORMS = {
    platform.value for platform in (*BrokerRuntime.platforms, *ThermoMavenRuntime.platforms)
}
ENTITY_KEYS = ("entity", "entities", "entity_id")
ENTITY_ID = re.compile(r"^([a-z_]+)\.([a-z0-9]+(?:_[a-z0-9]+)*)$")
# Entity ids inside templates (markdown cards).
TEMPLATE_ENTITY = re.compile(rf"'((?:{'|'.join(sorted(PLATFORMS))})\.[^'\s]+)'")
# The cards Home Assistant's frontend ships (no custom: cards).
CORE_CARDS = {
    "button",
    "conditional",
    "entities",
    "gauge",
    "glance",
    "grid",
    "history-graph",
    "horizontal-stack",
    "logbook",
    "markdown",
    "sensor",
    "thermostat",
    "tile",
    "vertical-stack",
}
# Core actions a dashboard of ours may call besides the integration's.
CORE_ACTIONS = {"homeassistant.update_entity", "climate.set_temperature", "climate.set_hvac_mode"}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DASHBOARD.read_text(encoding="utf-8"))
    return data


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Yield every mapping of the dashboard, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def strings(node: Any) -> Iterator[str]:
    for mapping in walk(node):
        yield from (value for value in mapping.values() if isinstance(value, str))


def referenced_entities(dashboard: dict[str, Any]) -> list[str]:
    """Every entity id under entity / entities / entity_id keys, and in templates."""
    found: list[str] = []
    for mapping in walk(dashboard):
        for key in ENTITY_KEYS:
            value = mapping.get(key)
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, str):
                    found.append(item)
                elif isinstance(item, dict) and ("entity" in item or "row" in item):
                    pass  # a (conditional) row: walk() reaches its mappings
                elif item is not None:
                    pytest.fail(f"{key}: {item!r} is neither an id nor a row")
    for text in strings(dashboard):
        found.extend(TEMPLATE_ENTITY.findall(text))
    return found


def entity_names() -> dict[str, set[str]]:
    """Per platform, the object-id endings our entities get (slugs of their English names)."""
    en = json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))
    return {
        platform: {slugify(item["name"]) for item in entities.values() if item.get("name")}
        for platform, entities in en["entity"].items()
    }


def cards(card: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield a card and the cards it holds (stacks, conditional)."""
    yield card
    for inner in card.get("cards", []):
        yield from cards(inner)
    if "card" in card:
        yield from cards(card["card"])


def test_views_and_core_cards_only(dashboard: dict[str, Any]) -> None:
    assert dashboard["title"]
    assert [view["path"] for view in dashboard["views"]] == ["fleet", "incidents", "thermomaven"]
    types = [
        card["type"] for view in dashboard["views"] for top in view["cards"] for card in cards(top)
    ]
    assert sorted(set(types) - CORE_CARDS) == []
    assert {"thermostat", "conditional", "button", "glance"} <= set(types)


def test_entity_ids_follow_our_naming(dashboard: dict[str, Any]) -> None:
    """domain.object_id, one of our platforms, ending with one of our entity names."""
    names = entity_names()
    found = referenced_entities(dashboard)
    assert len(found) > 30
    for entity_id in found:
        match = ENTITY_ID.match(entity_id)
        assert match, f"{entity_id} is not domain.object_id"
        domain, object_id = match.groups()
        assert domain in PLATFORMS, f"{entity_id}: not an IoT Hub platform"
        if domain == Platform.CLIMATE:
            # A probe's climate entity is named after the probe.
            assert re.fullmatch(r"[a-z0-9_]+_probe_\d", object_id), entity_id
        else:
            assert any(object_id.endswith(f"_{name}") for name in names[domain]), (
                f"{entity_id}: no {domain} of ours is called that"
            )


def test_the_views_cover_what_develop_and_thermomaven_show(dashboard: dict[str, Any]) -> None:
    found = set(referenced_entities(dashboard))
    hub = "iot_hub_127_0_0_1_1883"
    for entity_id in (
        f"sensor.{hub}_devices",
        f"sensor.{hub}_devices_online",
        f"sensor.{hub}_devices_offline",
        f"sensor.{hub}_rejected_messages",
        f"sensor.{hub}_open_incidents",
        f"binary_sensor.{hub}_broker_connection",
        "sensor.dht11_temperature",
        "sensor.dht11_humidity",
        "binary_sensor.dht11_incident",
        "sensor.esp32_001_temperature",
        *(f"climate.smoker_g4_probe_{n}" for n in range(1, 5)),
        *(f"sensor.smoker_g4_probe_{n}_cook_state" for n in range(1, 5)),
        *(f"sensor.smoker_g4_probe_{n}_time_remaining" for n in range(1, 5)),
    ):
        assert entity_id in found, entity_id


def test_probe_rows_show_only_with_a_value(dashboard: dict[str, Any]) -> None:
    """Time remaining (no estimate), ambient and battery (docked probe) hide when unknown."""
    view = next(view for view in dashboard["views"] if view["path"] == "thermomaven")
    rows = [m for m in walk(view) if m.get("type") == "conditional" and "row" in m]
    assert len(rows) == 4 * 3
    for row in rows:
        assert row["conditions"] == [
            {
                "condition": "state",
                "entity": row["row"]["entity"],
                "state_not": ["unknown", "unavailable"],
            }
        ]


def test_actions_exist_with_their_fields(dashboard: dict[str, Any]) -> None:
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text(encoding="utf-8"))
    called: list[str] = []
    for mapping in walk(dashboard):
        action = mapping.get("perform_action") or mapping.get("service")
        if action is None:
            continue
        called.append(action)
        domain, _, service = action.partition(".")
        if domain != "iot_hub":
            assert action in CORE_ACTIONS, f"{action}: neither ours nor a core action"
            continue
        assert service in services, f"{action} is not in services.yaml"
        fields = set(services[service].get("fields", {}))
        data = set(mapping.get("data", {}))
        assert data <= fields, f"{action}: unknown fields {sorted(data - fields)}"
        if service.endswith("_incident"):
            assert data & {"incident_id", "entity_id", "device_id"}, f"{action} names no incident"
    assert "iot_hub.acknowledge_incident" in called


def incident_card(dashboard: dict[str, Any], entity_id: str, card_type: str) -> dict[str, Any]:
    """The card of `card_type` the incidents view shows while the device's incident is on."""
    view = next(view for view in dashboard["views"] if view["path"] == "incidents")
    for top in view["cards"]:
        if top["type"] != "conditional" or top["conditions"][0]["entity"] != entity_id:
            continue
        assert top["conditions"][0]["state"] == "on"
        return next(card for card in cards(top) if card["type"] == card_type)
    pytest.fail(f"no conditional card for {entity_id}")


def incident_markdown(dashboard: dict[str, Any], entity_id: str) -> str:
    """The markdown the incidents view shows while the device's incident is on."""
    content: str = incident_card(dashboard, entity_id, "markdown")["content"]
    return content


async def test_incident_card_text(hass: HomeAssistant, dashboard: dict[str, Any]) -> None:
    """The card says the severity, status, value and limit, then who acknowledged it."""
    entity_id = "binary_sensor.dht11_incident"
    attributes = {
        "incident_id": "3fa2c01b9e",
        "severity": "warning",
        "status": "open",
        "kind": "threshold",
        "metric": "temperature",
        "value": 4.2,
        "threshold": 5.0,
        "opened_at": "2026-11-30T08:15:00+00:00",
    }
    await hass.config.async_set_time_zone("UTC")
    hass.states.async_set(entity_id, "on", attributes)
    content = incident_markdown(dashboard, entity_id)
    text = " ".join(Template(content, hass).async_render(parse_result=False).split())
    assert text == "**Warning**, open since 08:15: temperature 4.2 (limit 5.0)"

    attributes |= {"status": "acknowledged", "acknowledged_by": "Alice"}
    hass.states.async_set(entity_id, "on", attributes)
    text = " ".join(Template(content, hass).async_render(parse_result=False).split())
    assert text.endswith(
        "acknowledged since 08:15: temperature 4.2 (limit 5.0) Acknowledged by Alice"
    )


def test_each_acknowledge_button_names_the_incident_it_shows(dashboard: dict[str, Any]) -> None:
    view = next(view for view in dashboard["views"] if view["path"] == "incidents")
    conditionals = [top for top in view["cards"] if top["type"] == "conditional"]
    shown = [top["conditions"][0]["entity"] for top in conditionals]
    assert shown == ["binary_sensor.dht11_incident", "binary_sensor.esp32_001_incident"]
    for entity_id in shown:
        tap = incident_card(dashboard, entity_id, "button")["tap_action"]
        assert tap["perform_action"] == "iot_hub.acknowledge_incident"
        assert tap["data"]["entity_id"] == entity_id


async def test_acknowledge_button_acknowledges_the_incident_it_shows(
    hass: HomeAssistant,
    mosquitto: Mosquitto,
    make_entry: Callable[..., MockConfigEntry],
    dashboard: dict[str, Any],
) -> None:
    """The button works as pasted: it names the incident's entity, no device to pick."""
    entity_id = "binary_sensor.esp32_001_incident"
    await setup_entry(hass, make_entry(options={"clean_session": True}))
    await mosquitto.publish("iot/alerts/ESP32_001", '{"level": "warning", "message": "Hot"}')
    await wait_for_value(hass, entity_id, "on")
    events = async_capture_events(hass, "iot_hub_incident")
    tap = incident_card(dashboard, entity_id, "button")["tap_action"]
    assert tap["action"] == "perform-action"
    domain, _, service = tap["perform_action"].partition(".")
    await hass.services.async_call(domain, service, tap["data"], blocking=True)
    await wait_for_state(hass, entity_id, lambda s: s.attributes["status"] == "acknowledged")
    [acknowledged] = events
    assert acknowledged.data["note"] == "Acknowledged from the dashboard"
