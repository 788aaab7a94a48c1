"""Static checks of the shipped files: translations, manifest, hacs.json, brand.

The quality scale (quality_scale.yaml and the manifest's tier) is checked in test_quality_scale.py.

No broker and no network: these read files (and import the integration's modules to see which
translation keys the code uses).
"""

import ast
from collections.abc import Iterator
import importlib
import inspect
import json
from pathlib import Path
import re
import struct
from typing import Any

from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.selector import SelectSelector
import probatio
import pytest

from custom_components.iot_hub.broker import flow_forms
from custom_components.iot_hub.broker.options_flow import check_bases, family_fields
from custom_components.iot_hub.broker.runtime import BrokerRuntime
from custom_components.iot_hub.core.mqtt.errors import ConnectFailure
from custom_components.iot_hub.core.mqtt.settings import TlsMode

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / "iot_hub"
TRANSLATIONS = INTEGRATION / "translations"
LANGUAGES = ("en", "fr", "es")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

MANIFEST_REQUIRED = (
    "version",
    "codeowners",
    "documentation",
    "issue_tracker",
    "iot_class",
    "integration_type",
    "config_flow",
    "requirements",
)
HACS_ALLOWED = {
    "name",
    "homeassistant",
    "hacs",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "persistent_directory",
    "render_readme",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- helpers


def load_translation(language: str) -> dict[str, Any]:
    with (TRANSLATIONS / f"{language}.json").open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield (key path, value) for every non-dict value of a nested dict."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    else:
        yield path, node


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which must follow the signature."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    _length, chunk_type = struct.unpack(">I4s", header[8:16])
    assert chunk_type == b"IHDR", f"{path.name}: first chunk is {chunk_type!r}, not IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def entity_descriptions(module: Any) -> Iterator[EntityDescription]:
    """Entity descriptions a platform module defines at module level (also in tables)."""
    for value in vars(module).values():
        if isinstance(value, dict):
            candidates = list(value.values())
        elif isinstance(value, list | tuple):
            candidates = list(value)
        else:
            candidates = [value]
        yield from (item for item in candidates if is_entity_description(item))


def is_entity_description(value: Any) -> bool:
    # Home Assistant's FrozenOrThawed metaclass may hand back instances of a "thawed" copy of
    # the class (BinarySensorEntityDescription is one), which fails isinstance(): compare names.
    return isinstance(value, EntityDescription) or any(
        cls.__name__ == "EntityDescription" for cls in type(value).__mro__
    )


def raised_translation_keys() -> Iterator[tuple[str, str, set[str] | None]]:
    """(file, translation_key, literal placeholder names or None) of translated exceptions."""
    for path in sorted(INTEGRATION.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
            if isinstance(node.func, ast.Name) and node.func.id == "_error" and node.args:
                # services.py's shorthand: _error("key", placeholder=...).
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path.name}:{node.lineno}"
                yield path.name, str(first.value), set(keywords)
                continue
            if "translation_domain" not in keywords:
                continue
            key = keywords.get("translation_key")
            if isinstance(key, ast.Name) and key.id == "key":
                continue  # the shorthand's own body
            assert isinstance(key, ast.Constant), f"{path.name}:{node.lineno}: key not a literal"
            names: set[str] | None = None
            given = keywords.get("translation_placeholders")
            if isinstance(given, ast.Dict):
                names = {str(k.value) for k in given.keys if isinstance(k, ast.Constant)}
            yield path.name, str(key.value), names


@pytest.fixture(scope="module")
def translations() -> dict[str, dict[str, Any]]:
    return {language: load_translation(language) for language in LANGUAGES}


@pytest.fixture(scope="module")
def en(translations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return translations["en"]


# --------------------------------------------------------------------------- translations


@pytest.mark.parametrize("language", ["fr", "es"])
def test_same_key_paths_as_english(translations: dict[str, dict[str, Any]], language: str) -> None:
    english = {path for path, _ in leaves(translations["en"])}
    other = {path for path, _ in leaves(translations[language])}
    assert sorted(english - other) == [], f"missing in {language}.json"
    assert sorted(other - english) == [], f"not in en.json but in {language}.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_values_are_non_empty_strings(
    translations: dict[str, dict[str, Any]], language: str
) -> None:
    for path, value in leaves(translations[language]):
        where = f"{language}.json {'.'.join(path)}"
        assert isinstance(value, str), f"{where} is {type(value).__name__}"
        assert value.strip(), f"{where} is empty"
        assert value == value.strip(), f"{where} has leading or trailing spaces"


@pytest.mark.parametrize("language", ["fr", "es"])
def test_placeholders_match_english(translations: dict[str, dict[str, Any]], language: str) -> None:
    english = dict(leaves(translations["en"]))
    for path, value in leaves(translations[language]):
        assert placeholders(value) == placeholders(english[path]), (
            f"{language}.json {'.'.join(path)}: placeholders differ from en.json"
        )


@pytest.mark.parametrize("language", ["fr", "es"])
def test_technical_values_are_not_translated(
    translations: dict[str, dict[str, Any]], language: str
) -> None:
    for name in ("transport", "protocol"):
        options = translations[language]["selector"][name]["options"]
        assert options == translations["en"]["selector"][name]["options"], name


def test_every_field_has_a_description(en: dict[str, Any]) -> None:
    for flow in ("config", "options"):
        for step_id, step in en[flow]["step"].items():
            data = set(step.get("data", {}))
            described = set(step.get("data_description", {}))
            assert sorted(data - described) == [], f"{flow}.step.{step_id}: no data_description"
            assert sorted(described - data) == [], f"{flow}.step.{step_id}: description of nothing"


def test_config_flow_fields_are_translated(en: dict[str, Any]) -> None:
    steps = en["config"]["step"]
    schemas = {
        "broker": flow_forms.BROKER_SCHEMA,
        "reconfigure": flow_forms.BROKER_SCHEMA,
        "reauth_confirm": flow_forms.REAUTH_SCHEMA,
        "tls": flow_forms.tls_schema(TlsMode.CUSTOM_CA),
        "families": probatio.Schema(family_fields()),
    }
    for step_id, schema in schemas.items():
        fields = {str(marker) for marker in schema.schema}
        assert fields == set(steps[step_id]["data"]), f"config.step.{step_id}.data"


def test_select_selectors_are_translated(en: dict[str, Any]) -> None:
    selectors = [
        selector
        for selector in flow_forms.BROKER_SCHEMA.schema.values()
        if isinstance(selector, SelectSelector)
    ]
    assert selectors
    for selector in selectors:
        key = selector.config["translation_key"]
        options = {
            option if isinstance(option, str) else option["value"]
            for option in selector.config["options"]
        }
        assert options == set(en["selector"][key]["options"]), f"selector.{key}.options"


def test_connection_errors_are_translated(en: dict[str, Any]) -> None:
    missing = {failure.value for failure in ConnectFailure} - set(en["config"]["error"])
    assert sorted(missing) == []


def test_entity_translation_keys_exist(en: dict[str, Any]) -> None:
    checked = 0
    for platform in BrokerRuntime.platforms:
        module = importlib.import_module(f"custom_components.iot_hub.{platform.value}")
        for description in entity_descriptions(module):
            key = description.translation_key
            assert key is not None, f"{platform}.{description.key} has no translation_key"
            names = en["entity"].get(platform.value, {})
            assert key in names, f"entity.{platform.value}.{key} missing in en.json"
            checked += 1
    assert checked >= 3  # temperature, humidity, broker connection


def test_exception_translation_keys_exist(en: dict[str, Any]) -> None:
    found = list(raised_translation_keys())
    assert found
    for filename, key, names in found:
        assert key in en["exceptions"], f"{filename}: exceptions.{key} missing in en.json"
        message = en["exceptions"][key]["message"]
        if names is not None:
            assert placeholders(message) <= names, f"{filename}: placeholders of {key}"


def test_icons_refer_to_translated_entities(en: dict[str, Any]) -> None:
    icons = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))
    for platform, keys in icons.get("entity", {}).items():
        for key in keys:
            assert key in en["entity"].get(platform, {}), f"icons.json entity.{platform}.{key}"


# --------------------------------------------------------------------------- packaging


def test_manifest() -> None:
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "keys after domain and name must be alphabetical"
    assert manifest["domain"] == "iot_hub"
    for key in MANIFEST_REQUIRED:
        assert key in manifest, f"manifest.json has no {key}"
    assert manifest["config_flow"] is True
    assert manifest["codeowners"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])


def test_hacs_json() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert sorted(set(hacs) - HACS_ALLOWED) == []
    assert isinstance(hacs.get("name"), str)
    assert hacs["name"]


def test_brand_icon() -> None:
    assert png_size(INTEGRATION / "brand" / "icon.png") == (256, 256)
    hidpi = INTEGRATION / "brand" / "icon@2x.png"
    if hidpi.exists():
        assert png_size(hidpi) == (512, 512)


def test_every_config_flow_error_is_translated(en: dict[str, Any]) -> None:
    """Error keys the setup screens set (the families step shares check_bases with options)."""
    package = Path(__file__).parents[1] / "custom_components" / "iot_hub"
    pattern = re.compile(r'errors(?:\[[^\]]+\]\s*=|\.setdefault\([^,]+,)\s*"(\w+)"')
    sources = [
        (package / name).read_text(encoding="utf-8")
        for name in ("broker/flow.py", "broker/flow_forms.py")
    ]
    sources.append(inspect.getsource(check_bases))
    used = {key for source in sources for key in pattern.findall(source)}
    assert {"invalid_file", "ca_required", "invalid_base_topic"} <= used
    assert sorted(used - set(en["config"]["error"])) == []


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_no_text_looks_like_a_tag(language: str) -> None:
    """The frontend reads strings as ICU messages: "<base>" would print a translation error."""
    text = (TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")
    assert re.findall(r"<[^\s>]+>", text) == []
