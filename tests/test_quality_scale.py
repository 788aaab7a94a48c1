"""quality_scale.yaml: every rule listed, the manifest's tier earned, and evidence for `done`.

The yaml says, rule by rule of Home Assistant's integration quality scale, whether IoT Hub
follows it (`done`), does not need it (`exempt`, with why) or does not follow it yet (`todo`,
with what is missing). The manifest's `quality_scale` must be the highest tier whose rules, and
those of every tier below, are all done or exempt.

A `done` is checked against the code wherever a machine can tell: each rule of `EVIDENCE` looks
for what the rule requires (a file, a flow step, a translation key, a setting) and the test
fails naming the rule when it is not there. The checks are necessary, not sufficient: a rule
they pass may still be unmet in ways only a review sees. For a `todo` rule the same check runs
and is reported in the skip reason (what is still missing, or that the rule may be done).
"""

import ast
from collections.abc import Callable, Iterator
import importlib
import inspect
import json
from pathlib import Path
import pkgutil
import re
import tomllib
from types import ModuleType
from typing import Any

from homeassistant import exceptions as ha_exceptions
from homeassistant.const import Platform
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity import Entity
import pytest
import yaml

import custom_components.iot_hub as integration
from custom_components.iot_hub import config_flow, const
from custom_components.iot_hub.broker.runtime import BrokerRuntime
from custom_components.iot_hub.thermomaven.runtime import ThermoMavenRuntime

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / "iot_hub"
PACKAGE = integration.__name__

# Home Assistant's rules per tier (docs-conditions and docs-triggers are Bronze rules of the
# current scale, as in Home Assistant's own quality_scale.yaml files).
TIER_RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow-test-coverage",
        "config-flow",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery-update-info",
        "discovery",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
TIERS = tuple(TIER_RULES)
RULE_TIER = {rule: tier for tier, rules in TIER_RULES.items() for rule in rules}
STATUSES = {"done", "exempt", "todo"}

# README sections (## or ### headings) each documentation rule needs.
DOCS_SECTIONS: dict[str, tuple[str, ...]] = {
    "docs-actions": ("Actions",),
    "docs-conditions": ("Conditions",),
    "docs-configuration-parameters": ("Options",),
    "docs-data-update": ("Data updates",),
    "docs-examples": ("Blueprints",),
    "docs-high-level-description": ("What IoT Hub does",),
    "docs-installation-instructions": ("Installation",),
    "docs-installation-parameters": ("Setup",),
    "docs-known-limitations": ("Known limitations",),
    "docs-removal-instructions": ("Removing the integration",),
    "docs-supported-devices": ("Message layouts", "ThermoMaven thermometers"),
    "docs-supported-functions": ("Entities",),
    "docs-triggers": ("Device triggers",),
    "docs-troubleshooting": ("Troubleshooting",),
    "docs-use-cases": ("What IoT Hub does", "Blueprints"),
}
# A documented section has at least this much text under its heading (its subsections included).
MIN_SECTION_CHARS = 200

# Untranslated Home Assistant exceptions allowed, with why: (file relative to the integration,
# enclosing function) -> justification. Keep it empty unless a raise truly cannot be translated.
UNTRANSLATED_EXCEPTIONS: dict[tuple[str, str], str] = {}

# Files that may build their own aiohttp session, with why (inject-websession).
OWN_HTTP_SESSIONS: dict[str, str] = {
    "thermomaven/cloud.py": "only for the test-only endpoint override (trusts the fake cloud's CA)",
}

type Evidence = Callable[[], list[str]]


# --------------------------------------------------------------------------- loading


def load_rules() -> dict[str, dict[str, Any]]:
    """Rule -> {"status": ..., "comment": ... or None}, the shorthand `rule: done` expanded."""
    data = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), "quality_scale.yaml is not a mapping"
    assert list(data) == ["rules"], f"quality_scale.yaml: top-level keys {sorted(data)}"
    rules: dict[str, dict[str, Any]] = {}
    for rule, value in data["rules"].items():
        if isinstance(value, str):
            rules[rule] = {"status": value, "comment": None}
        else:
            assert isinstance(value, dict), f"{rule}: {value!r}"
            rules[rule] = {"status": value.get("status"), "comment": value.get("comment"), **value}
    return rules


def status(rule: str) -> str:
    return str(load_rules()[rule]["status"])


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def manifest() -> dict[str, Any]:
    return load_json(INTEGRATION / "manifest.json")


def en() -> dict[str, Any]:
    return load_json(INTEGRATION / "translations" / "en.json")


def sources() -> Iterator[tuple[str, ast.Module]]:
    """(path relative to the integration, parsed module) of every Python file."""
    for path in sorted(INTEGRATION.rglob("*.py")):
        relative = path.relative_to(INTEGRATION).as_posix()
        yield relative, ast.parse(path.read_text(encoding="utf-8"), filename=relative)


def modules() -> list[ModuleType]:
    """Every module of the integration, imported."""
    found = [integration]
    for info in pkgutil.walk_packages(integration.__path__, f"{PACKAGE}."):
        found.append(importlib.import_module(info.name))
    return found


def call_name(node: ast.Call) -> str | None:
    """`f` of `f(...)` or `x.f(...)`."""
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def keywords(node: ast.Call) -> dict[str, ast.expr]:
    return {kw.arg: kw.value for kw in node.keywords if kw.arg is not None}


def functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {
        node.name: node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def readme_sections() -> dict[str, str]:
    """Heading -> its text (subsections included), for the ## and ### headings of the README."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    headings: list[tuple[int, int, str]] = []  # (line, level, title)
    fenced = False
    for number, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#{2,3}) (.+)", line)):
            headings.append((number, len(match.group(1)), match.group(2).strip()))
    sections: dict[str, str] = {}
    for index, (number, level, title) in enumerate(headings):
        end = next((n for n, lv, _ in headings[index + 1 :] if lv <= level), len(lines))
        sections[title] = "\n".join(lines[number + 1 : end]).strip()
    return sections


# --------------------------------------------------------------------------- entities

PLATFORMS = {platform.value for platform in Platform}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def description_platform(description: Any) -> str | None:
    """The platform of an entity description, from its Home Assistant class in the MRO.

    By name: Home Assistant's FrozenOrThawed metaclass may hand back instances of a "thawed"
    copy of the class, whose module is not the platform's.
    """
    for cls in type(description).__mro__:
        if cls.__name__.endswith("EntityDescription"):
            platform = _snake(cls.__name__.removesuffix("EntityDescription"))
            if platform in PLATFORMS:
                return platform
    return None


def is_entity_description(value: Any) -> bool:
    return any(cls.__name__ == "EntityDescription" for cls in type(value).__mro__)


def entity_descriptions() -> list[tuple[str, Any]]:
    """(module name, description) of every description defined at module level, in tables too."""
    found: dict[int, tuple[str, Any]] = {}
    for module in modules():
        for value in vars(module).values():
            if isinstance(value, dict):
                candidates = list(value.values())
            elif isinstance(value, list | tuple):
                candidates = list(value)
            else:
                candidates = [value]
            for item in candidates:
                if is_entity_description(item):
                    found.setdefault(id(item), (module.__name__, item))
    return list(found.values())


def entity_classes() -> list[type[Entity]]:
    """Every Entity subclass the integration defines."""
    found: dict[str, type[Entity]] = {}
    for module in modules():
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Entity)
                and value.__module__.startswith(PACKAGE)
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def entity_platform(cls: type[Entity]) -> str | None:
    """The platform of an entity class (None for the integration's own base classes)."""
    for base in cls.__mro__:
        parts = base.__module__.split(".")
        if parts[:2] == ["homeassistant", "components"] and parts[2] in PLATFORMS:
            return parts[2]
    return None


def class_default(cls: type, attribute: str) -> Any:
    """The class-level value of an `_attr_` attribute (Home Assistant's metaclass moves it)."""
    for base in cls.__mro__:
        namespace = vars(base)
        if f"__attr_{attribute}" in namespace:
            return namespace[f"__attr_{attribute}"]
        value = namespace.get(f"_attr_{attribute}")
        if value is not None and not isinstance(value, property):
            return value
    return None


def defines(cls: type, name: str) -> bool:
    """Whether the integration's own code (not Home Assistant's base class) defines `name`."""
    return any(name in vars(base) for base in cls.__mro__ if base.__module__.startswith(PACKAGE))


def own_sources(cls: type) -> str:
    """Source of the classes in `cls`'s MRO that the integration defines."""
    return "\n".join(
        inspect.getsource(base) for base in cls.__mro__ if base.__module__.startswith(PACKAGE)
    )


# --------------------------------------------------------------------------- evidence


def evidence_action_setup() -> list[str]:
    problems = []
    tree = ast.parse((INTEGRATION / "__init__.py").read_text(encoding="utf-8"))
    if "async_setup" not in functions(tree):
        problems.append("__init__.py has no async_setup to register the actions in")
    for relative, module in sources():
        setup = functions(module).get("async_setup_entry")
        if setup is not None and any(
            isinstance(node, ast.Call) and call_name(node) == "async_register"
            for node in ast.walk(setup)
        ):
            problems.append(f"{relative}: actions registered in async_setup_entry")
    return problems


def evidence_brands() -> list[str]:
    icon = INTEGRATION / "brand" / "icon.png"
    return [] if icon.is_file() else ["brand/icon.png is missing"]


def evidence_config_flow() -> list[str]:
    problems = []
    if manifest().get("config_flow") is not True:
        problems.append('manifest.json has no "config_flow": true')
    if not defines(config_flow.IotHubConfigFlow, "async_step_user"):
        problems.append("the config flow has no async_step_user")
    return problems


def evidence_docs(rule: str) -> Evidence:
    def check() -> list[str]:
        sections = readme_sections()
        problems = []
        for title in DOCS_SECTIONS[rule]:
            if title not in sections:
                problems.append(f'README.md has no "{title}" section')
            elif len(sections[title]) < MIN_SECTION_CHARS:
                problems.append(f'README.md: the "{title}" section is nearly empty')
        return problems

    return check


def evidence_docs_actions() -> list[str]:
    problems = evidence_docs("docs-actions")()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text(encoding="utf-8"))
    problems.extend(
        f"README.md does not mention the action {name}"
        for name in services
        if f"iot_hub.{name}" not in readme
    )
    return problems


def evidence_entity_event_setup() -> list[str]:
    problems = []
    for cls in entity_classes():
        if entity_platform(cls) is None:
            continue
        source = own_sources(cls)
        if "async_added_to_hass" not in source or "async_on_remove" not in source:
            problems.append(
                f"{cls.__qualname__}: no subscription in async_added_to_hass "
                "undone with async_on_remove"
            )
    return problems


def evidence_entity_unique_id() -> list[str]:
    problems = []
    for cls in entity_classes():
        if entity_platform(cls) is None:
            continue
        if "_attr_unique_id =" not in own_sources(cls):
            problems.append(f"{cls.__qualname__} never sets _attr_unique_id")
    return problems


def evidence_has_entity_name() -> list[str]:
    problems = [
        f"{cls.__qualname__}: _attr_has_entity_name is not True"
        for cls in entity_classes()
        if class_default(cls, "has_entity_name") is not True
    ]
    problems.extend(
        f"{cls.__qualname__}: _attr_name set in code"
        for cls in entity_classes()
        if isinstance(class_default(cls, "name"), str)
    )
    return problems


def evidence_runtime_data() -> list[str]:
    problems = []
    init = (INTEGRATION / "__init__.py").read_text(encoding="utf-8")
    if "entry.runtime_data = " not in init:
        problems.append("__init__.py never sets entry.runtime_data")
    for relative, tree in sources():
        for node in ast.walk(tree):
            # hass.data[DOMAIN], hass.data.setdefault(DOMAIN, ...), hass.data.get(DOMAIN)...
            target: ast.expr | None = None
            if isinstance(node, ast.Subscript):
                container, target = node.value, node.slice
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
                container, target = node.func.value, node.args[0]
            else:
                continue
            if not (isinstance(container, ast.Attribute) and container.attr == "data"):
                continue
            if (isinstance(target, ast.Name) and target.id == "DOMAIN") or (
                isinstance(target, ast.Constant) and target.value == "iot_hub"
            ):
                problems.append(f"{relative}:{node.lineno}: entry state kept in hass.data[DOMAIN]")
    return problems


def evidence_unique_config_entry() -> list[str]:
    text = "\n".join(
        (INTEGRATION / name).read_text(encoding="utf-8")
        for name in ("config_flow.py", "broker/flow.py", "thermomaven/flow.py")
    )
    needed = ("_async_abort_entries_match", "async_set_unique_id", "_abort_if_unique_id_configured")
    return [f"the config flow never calls {name}" for name in needed if name not in text]


def evidence_config_entry_unloading() -> list[str]:
    tree = ast.parse((INTEGRATION / "__init__.py").read_text(encoding="utf-8"))
    return [] if "async_unload_entry" in functions(tree) else ["no async_unload_entry"]


def evidence_integration_owner() -> list[str]:
    return [] if manifest().get("codeowners") else ["manifest.json has no codeowners"]


def platform_modules() -> dict[str, ModuleType]:
    """Platform -> the integration's module for it (every platform an entry kind sets up)."""
    platforms = {p.value for p in (*BrokerRuntime.platforms, *ThermoMavenRuntime.platforms)}
    platforms |= {path.stem for path in INTEGRATION.glob("*.py") if path.stem in PLATFORMS}
    return {name: importlib.import_module(f"{PACKAGE}.{name}") for name in sorted(platforms)}


def evidence_parallel_updates() -> list[str]:
    return [
        f"{name}.py does not set PARALLEL_UPDATES"
        for name, module in platform_modules().items()
        if not isinstance(getattr(module, "PARALLEL_UPDATES", None), int)
    ]


def evidence_reauthentication_flow() -> list[str]:
    problems = []
    flow = config_flow.IotHubConfigFlow
    if not defines(flow, "async_step_reauth"):
        problems.append("the config flow has no async_step_reauth")
    steps = en()["config"]["step"]
    problems.extend(
        f"config flow: no reauth step {step} (method or translation)"
        for step in ("reauth_confirm", "thermomaven_reauth")
        if not defines(flow, f"async_step_{step}") or step not in steps
    )
    if "reauth_successful" not in en()["config"].get("abort", {}):
        problems.append("en.json has no config.abort.reauth_successful")
    return problems


def evidence_test_coverage() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    coverage = pyproject.get("tool", {}).get("coverage", {})
    problems = []
    if "custom_components/iot_hub" not in coverage.get("run", {}).get("source", []):
        problems.append("pyproject.toml: coverage does not measure custom_components/iot_hub")
    if coverage.get("report", {}).get("fail_under", 0) < 95:
        problems.append("pyproject.toml: coverage fail_under is below 95")
    return problems


def evidence_devices() -> list[str]:
    return [
        f"{cls.__qualname__} never sets _attr_device_info"
        for cls in entity_classes()
        if entity_platform(cls) is not None and "_attr_device_info =" not in own_sources(cls)
    ]


def evidence_diagnostics() -> list[str]:
    path = INTEGRATION / "diagnostics.py"
    if not path.is_file():
        return ["diagnostics.py is missing"]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    function = functions(tree).get("async_get_config_entry_diagnostics")
    if not isinstance(function, ast.AsyncFunctionDef):
        return ["diagnostics.py has no async def async_get_config_entry_diagnostics"]
    if "async_redact_data" not in path.read_text(encoding="utf-8"):
        return ["diagnostics.py redacts nothing (async_redact_data)"]
    return []


def evidence_discovery() -> list[str]:
    problems = []
    topics = manifest().get("mqtt")
    if not (isinstance(topics, list) and topics and all(isinstance(t, str) for t in topics)):
        problems.append('manifest.json declares no "mqtt" discovery topics')
    if not defines(config_flow.IotHubConfigFlow, "async_step_mqtt"):
        problems.append("the config flow has no async_step_mqtt")
    return problems


def evidence_discovery_update_info() -> list[str]:
    problems = [f"discovery: {problem}" for problem in evidence_discovery()]
    source = own_sources(config_flow.IotHubConfigFlow)
    if not re.search(r"_abort_if_unique_id_configured\(\s*updates=", source):
        problems.append("the discovery step never updates an entry it finds again")
    return problems


def evidence_dynamic_devices() -> list[str]:
    text = "\n".join(
        (INTEGRATION / name).read_text(encoding="utf-8")
        for name in ("entity.py", "thermomaven/entity.py")
    )
    if text.count("add_new_entities(add_new)") < 2:
        return ["platforms do not add entities for new devices (add_new_entities)"]
    return []


def evidence_entity_category() -> list[str]:
    if any(getattr(d, "entity_category", None) for _, d in entity_descriptions()):
        return []
    return ["no entity description has an entity_category"]


def evidence_entity_device_class() -> list[str]:
    if any(getattr(d, "device_class", None) for _, d in entity_descriptions()):
        return []
    return ["no entity description has a device_class"]


def evidence_entity_disabled_by_default() -> list[str]:
    if any(not d.entity_registry_enabled_default for _, d in entity_descriptions()):
        return []
    return ["no entity is disabled by default"]


def evidence_entity_translations() -> list[str]:
    names = en()["entity"]
    problems = []
    descriptions = entity_descriptions()
    if len(descriptions) < 30:
        problems.append(f"only {len(descriptions)} entity descriptions found: lookup broken?")
    for module, description in descriptions:
        where = f"{module}: {description.key}"
        platform = description_platform(description)
        key = description.translation_key
        if isinstance(description.name, str):
            problems.append(f"{where}: name set in code ({description.name!r})")
        if key is not None:
            if platform is None:
                problems.append(f"{where}: platform unknown")
            elif key not in names.get(platform, {}):
                problems.append(f"{where}: entity.{platform}.{key} missing in en.json")
        elif description.name is not None and getattr(description, "device_class", None) is None:
            problems.append(f"{where}: no translation_key, no device class, name not None")
    for cls in entity_classes():
        key = class_default(cls, "translation_key")
        platform = entity_platform(cls)
        if isinstance(key, str) and platform and key not in names.get(platform, {}):
            problems.append(f"{cls.__qualname__}: entity.{platform}.{key} missing in en.json")
    return problems


def ha_exception_names() -> set[str]:
    """Home Assistant's exception classes (HomeAssistantError and subclasses), and ours."""
    found = {
        name
        for name, value in vars(ha_exceptions).items()
        if isinstance(value, type) and issubclass(value, HomeAssistantError)
    }
    for module in modules():
        found.update(
            value.__name__
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, HomeAssistantError)
            and value.__module__.startswith(PACKAGE)
        )
    return found


class _ExceptionVisitor(ast.NodeVisitor):
    """Collect Home Assistant exceptions built or raised without a translation."""

    def __init__(self, relative: str, names: set[str], messages: dict[str, Any]) -> None:
        self.relative = relative
        self.names = names
        self.messages = messages
        self.stack: list[str] = []
        self.problems: list[str] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _report(self, node: ast.AST, what: str) -> None:
        function = self.stack[-1] if self.stack else "<module>"
        if (self.relative, function) in UNTRANSLATED_EXCEPTIONS:
            return
        line = getattr(node, "lineno", 0)
        self.problems.append(f"{self.relative}:{line} ({function}): {what}")

    def visit_Raise(self, node: ast.Raise) -> None:
        exc = node.exc
        name = exc.id if isinstance(exc, ast.Name) else None
        if isinstance(exc, ast.Attribute):
            name = exc.attr
        if name in self.names:
            self._report(node, f"raise {name} without arguments (no translation)")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = call_name(node)
        if name in self.names:
            given = keywords(node)
            if any(kw.arg is None for kw in node.keywords):
                self._report(node, f"{name}(**...): translation not visible")
            elif not {"translation_domain", "translation_key"} <= set(given):
                self._report(node, f"{name}(...) without translation_domain/translation_key")
            elif (
                isinstance(key := given["translation_key"], ast.Constant)
                and key.value not in self.messages
            ):
                self._report(node, f"exceptions.{key.value} missing in en.json")
        self.generic_visit(node)


def evidence_exception_translations() -> list[str]:
    names = ha_exception_names()
    messages = en().get("exceptions", {})
    problems = []
    for relative, tree in sources():
        visitor = _ExceptionVisitor(relative, names, messages)
        visitor.visit(tree)
        problems.extend(visitor.problems)
    return problems


def evidence_icon_translations() -> list[str]:
    icons = load_json(INTEGRATION / "icons.json")
    names = en()["entity"]
    problems = [
        f"icons.json: entity.{platform}.{key} is not a translated entity"
        for platform, keys in icons.get("entity", {}).items()
        for key in keys
        if key not in names.get(platform, {})
    ]
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text(encoding="utf-8"))
    problems.extend(
        f"icons.json: no icon for the action {name}"
        for name in services
        if name not in icons.get("services", {})
    )
    problems.extend(
        f"{module}: {description.key} sets icon in code"
        for module, description in entity_descriptions()
        if getattr(description, "icon", None)
    )
    for cls in entity_classes():
        if class_default(cls, "icon") or any(
            isinstance(vars(base).get("icon"), property)
            for base in cls.__mro__
            if base.__module__.startswith(PACKAGE)
        ):
            problems.append(f"{cls.__qualname__} sets its icon in code")
    return problems


def evidence_reconfiguration_flow() -> list[str]:
    problems = []
    flow = config_flow.IotHubConfigFlow
    if not defines(flow, "async_step_reconfigure"):
        problems.append("the config flow has no async_step_reconfigure")
    steps = en()["config"]["step"]
    problems.extend(
        f"en.json has no config.step.{step}"
        for step in ("reconfigure", "thermomaven_reconfigure")
        if step not in steps
    )
    if "reconfigure_successful" not in en()["config"].get("abort", {}):
        problems.append("en.json has no config.abort.reconfigure_successful")
    return problems


def issue_translation_keys() -> Iterator[tuple[str, int, str | None]]:
    """(file, line, translation key or None when computed) of every issue created."""
    constants: dict[str, Any] = {}
    for module in modules():
        constants.update(
            (name, value) for name, value in vars(module).items() if isinstance(value, str)
        )
    for relative, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and call_name(node) == "async_create_issue":
                key = keywords(node).get("translation_key")
                value: str | None = None
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    value = key.value
                elif isinstance(key, ast.Name):
                    value = constants.get(key.id)
                yield relative, node.lineno, value


def evidence_repair_issues() -> list[str]:
    issues = en().get("issues", {})
    created = list(issue_translation_keys())
    problems = []
    if not created:
        problems.append("ir.async_create_issue is never called")
    if not issues:
        problems.append("en.json has no issues")
    for relative, line, key in created:
        # A key computed at run time (not a literal or a constant) is covered by ISSUE_*.
        if key is not None and key not in issues:
            problems.append(f"{relative}:{line}: issues.{key} missing in en.json")
    problems.extend(
        f"const.{name}: issues.{value} missing in en.json"
        for name, value in vars(const).items()
        if name.startswith("ISSUE_") and isinstance(value, str) and value not in issues
    )
    deleted = any(
        isinstance(node, ast.Call) and call_name(node) == "async_delete_issue"
        for _, tree in sources()
        for node in ast.walk(tree)
    )
    if created and not deleted:
        problems.append("issues are never deleted (ir.async_delete_issue)")
    return problems


def evidence_stale_devices() -> list[str]:
    tree = ast.parse((INTEGRATION / "__init__.py").read_text(encoding="utf-8"))
    if "async_remove_config_entry_device" in functions(tree):
        return []
    return ["__init__.py has no async_remove_config_entry_device"]


def evidence_inject_websession() -> list[str]:
    problems = []
    users = 0
    for relative, tree in sources():
        text = (INTEGRATION / relative).read_text(encoding="utf-8")
        if not re.search(r"^\s*(import aiohttp|from aiohttp)", text, re.MULTILINE):
            continue
        users += 1
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and call_name(node) == "ClientSession"
                and relative not in OWN_HTTP_SESSIONS
            ):
                problems.append(f"{relative}:{node.lineno}: builds its own aiohttp session")
        if not relative.startswith("core/") and "async_get_clientsession" not in text:
            problems.append(f"{relative}: uses aiohttp without async_get_clientsession")
    if users and not any(
        "async_get_clientsession(" in (INTEGRATION / relative).read_text(encoding="utf-8")
        for relative, _ in sources()
    ):
        problems.append("Home Assistant's session (async_get_clientsession) is never used")
    return problems


def evidence_strict_typing() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    problems = []
    if pyproject.get("tool", {}).get("mypy", {}).get("strict") is not True:
        problems.append("pyproject.toml: [tool.mypy] strict is not true")
    lint = (ROOT / "scripts" / "lint").read_text(encoding="utf-8")
    if "mypy --strict custom_components/iot_hub" not in lint:
        problems.append("scripts/lint does not run mypy --strict on the integration")
    return problems


EVIDENCE: dict[str, Evidence] = {
    "action-setup": evidence_action_setup,
    "brands": evidence_brands,
    "config-flow": evidence_config_flow,
    "docs-actions": evidence_docs_actions,
    **{rule: evidence_docs(rule) for rule in DOCS_SECTIONS if rule != "docs-actions"},
    "entity-event-setup": evidence_entity_event_setup,
    "entity-unique-id": evidence_entity_unique_id,
    "has-entity-name": evidence_has_entity_name,
    "runtime-data": evidence_runtime_data,
    "unique-config-entry": evidence_unique_config_entry,
    "config-entry-unloading": evidence_config_entry_unloading,
    "integration-owner": evidence_integration_owner,
    "parallel-updates": evidence_parallel_updates,
    "reauthentication-flow": evidence_reauthentication_flow,
    "test-coverage": evidence_test_coverage,
    "devices": evidence_devices,
    "diagnostics": evidence_diagnostics,
    "discovery": evidence_discovery,
    "discovery-update-info": evidence_discovery_update_info,
    "dynamic-devices": evidence_dynamic_devices,
    "entity-category": evidence_entity_category,
    "entity-device-class": evidence_entity_device_class,
    "entity-disabled-by-default": evidence_entity_disabled_by_default,
    "entity-translations": evidence_entity_translations,
    "exception-translations": evidence_exception_translations,
    "icon-translations": evidence_icon_translations,
    "reconfiguration-flow": evidence_reconfiguration_flow,
    "repair-issues": evidence_repair_issues,
    "stale-devices": evidence_stale_devices,
    "inject-websession": evidence_inject_websession,
    "strict-typing": evidence_strict_typing,
}


# --------------------------------------------------------------------------- tests


def test_every_rule_is_listed_once() -> None:
    rules = load_rules()
    missing = sorted(set(RULE_TIER) - set(rules))
    unknown = sorted(set(rules) - set(RULE_TIER))
    assert missing == [], f"quality_scale.yaml lacks rules: {missing}"
    assert unknown == [], f"quality_scale.yaml has unknown rules: {unknown}"


def test_statuses_and_comments() -> None:
    for rule, value in load_rules().items():
        assert set(value) <= {"status", "comment"}, f"{rule}: unexpected keys {sorted(value)}"
        assert value["status"] in STATUSES, f"{rule}: status {value['status']!r}"
        comment = value["comment"]
        if value["status"] in {"exempt", "todo"}:
            assert comment is not None, f"{rule}: {value['status']} without a comment saying why"
        if comment is not None:
            assert isinstance(comment, str), f"{rule}: comment is not text"
            assert comment.strip(), f"{rule}: empty comment"


def test_rules_sit_under_their_tier() -> None:
    """The yaml's "# Bronze" / "# Silver" / ... markers match each rule's real tier."""
    text = (INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8")
    tier = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# ") and stripped[2:].lower() in TIERS:
            tier = stripped[2:].lower()
        elif re.match(r"  [a-z-]+:", line):
            rule = stripped.split(":")[0]
            assert tier == RULE_TIER.get(rule, tier), f"{rule} is a {RULE_TIER[rule]} rule"


def reached_tier() -> str | None:
    """The highest tier whose rules, and those of every tier below, are done or exempt."""
    rules = load_rules()
    reached = None
    for tier in TIERS:
        if any(rules[rule]["status"] == "todo" for rule in TIER_RULES[tier]):
            break
        reached = tier
    return reached


def test_manifest_claims_the_tier_reached() -> None:
    reached = reached_tier()
    claimed = manifest().get("quality_scale")
    todo = [rule for rule, value in load_rules().items() if value["status"] == "todo"]
    assert claimed == reached, (
        f"manifest.json claims {claimed!r}, quality_scale.yaml reaches {reached!r} (todo: {todo})"
    )


def test_every_mechanical_rule_is_known() -> None:
    assert set(EVIDENCE) <= set(RULE_TIER), sorted(set(EVIDENCE) - set(RULE_TIER))


@pytest.mark.parametrize("rule", sorted(EVIDENCE))
def test_evidence_of_done_rules(rule: str) -> None:
    state = status(rule)
    if state == "exempt":
        pytest.skip(f"{rule} is exempt")
    problems = EVIDENCE[rule]()
    if state == "todo":
        pytest.skip(
            f"{rule} is todo: "
            + ("; ".join(problems) or "the mechanical evidence is all there: done now?")
        )
    assert problems == [], f"{rule} is marked done but:\n  " + "\n  ".join(problems)
