"""The core packages never import Home Assistant (nor climb out of core)."""

import ast
from pathlib import Path

from custom_components.iot_hub import core


def _imported_modules(path: Path) -> list[tuple[str, int]]:
    """(module, relative level) of every import statement in a source file."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_core_never_imports_home_assistant() -> None:
    package = Path(core.__file__).parent
    sources = sorted(package.rglob("*.py"))
    assert {p.name for p in sources} >= {
        "__init__.py",
        "backoff.py",
        "client.py",
        "dht11.py",
        "errors.py",
        "settings.py",
        "tls.py",
    }
    offenders = []
    for path in sources:
        # A relative import may climb to core itself, never above it (..const etc.).
        max_level = len(path.relative_to(package).parts)
        for module, level in _imported_modules(path):
            top = module.split(".")[0]
            if (level == 0 and top in {"homeassistant", "custom_components"}) or level > max_level:
                offenders.append(f"{path.name}: {'.' * level}{module}")
    assert offenders == []
