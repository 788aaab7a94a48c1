"""What a real ``hass`` would pip-install at its first start, for the E2E tests.

The built-in integrations a fresh, onboarded instance loads (the frontend, assist_pipeline,
mobile_app, and what onboarding sets up: google_translate, met, radio_browser) pin packages
that pytest-homeassistant-custom-component does not bring. Home Assistant installs missing ones
itself at startup, slowly and from PyPI; ``scripts/setup_e2e`` (and, as a fallback, the E2E
fixture) installs them into the venv beforehand, as ``scripts/develop`` does.

    python -m tests.e2e.hass_requirements     prints the missing requirements, one per line
"""

import importlib.metadata as md
import json
from pathlib import Path

DOMAINS = ("frontend", "assist_pipeline", "mobile_app", "google_translate", "met", "radio_browser")


def missing() -> list[str]:
    """Return the pinned requirements (``name==version``) of DOMAINS not installed as pinned."""
    import homeassistant.components as components

    base = Path(components.__file__).parent
    wanted: list[str] = []
    for domain in DOMAINS:
        manifest = json.loads((base / domain / "manifest.json").read_text())
        for requirement in manifest.get("requirements", []):
            name, _, version = requirement.partition("==")
            try:
                if md.version(name) == version:
                    continue
            except md.PackageNotFoundError:
                pass
            wanted.append(requirement)
    return wanted


if __name__ == "__main__":
    for line in missing():
        print(line)
