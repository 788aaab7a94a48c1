"""The browser of the end-to-end tests: Chromium driven by Playwright, and the screenshots.

Needs Debian's Chromium at /usr/bin/chromium and the ``playwright`` package (never its own
browser download): scripts/setup_e2e installs both. Without them the browser test is skipped,
except in CI (CI set), where it fails.

Screenshots (1280 px wide) go:

- by default into the test's tmp dir (printed), so that test runs leave the checkout alone;
- with ``IOT_HUB_UPDATE_SCREENSHOTS=1`` into docs/screenshots/, the README's images
  (compressed with pngquant when it is installed).

The fixtures (``chromium_ready``, ``shots``, ``page``) are in conftest.py and use these.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import re
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

from homeassistant.util.yaml import parse_yaml
import pytest

from .harness import ROOT, USER, Client, Phases, in_ci, wait_for

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# The setup forms are taller than 800 px: their screenshots show all of them.
TALL_VIEWPORT: ViewportSize = {"width": 1280, "height": 1300}
TIMEOUT_MS = 30_000
DASHBOARD = ROOT / "dashboards" / "iot_hub.yaml"
DASHBOARD_URL = "iot-hub"
README_SHOTS = ROOT / "docs" / "screenshots"


def check_chromium() -> None:
    """Skip (fail in CI) unless Chromium and the playwright package are there."""
    problems = []
    if not os.access(CHROMIUM, os.X_OK):
        problems.append(f"{CHROMIUM} is missing (Debian's chromium package)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright is not installed in the venv")
    if problems:
        reason = "; ".join(problems) + ": run scripts/setup_e2e"
        if in_ci():
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)


def screenshot_dir(tmp_path: Path) -> Path:
    """Where the screenshots go (see the module docstring)."""
    if os.environ.get("IOT_HUB_UPDATE_SCREENSHOTS") == "1":
        directory = README_SHOTS
    else:
        directory = tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def list_screenshots(directory: Path) -> None:
    listing = ", ".join(
        f"{path.name} ({path.stat().st_size // 1024} KB)"
        for path in sorted(directory.glob("*.png"))
    )
    print(f"[screenshots] in {directory}: {listing or 'none'}", flush=True)


# The text of an element as rendered: shadow roots and slots followed (the flat tree), hidden
# elements skipped. Home Assistant's rows keep a value in the light DOM and its name in a
# shadow root: their textContent reads "22.6 °C Temperature".
_RENDERED_TEXT = """
(root) => {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (["STYLE", "SCRIPT", "TEMPLATE"].includes(node.tagName)) return;
      if (getComputedStyle(node).display === "none") return;
      if (node.tagName === "SLOT") {
        const assigned = node.assignedNodes({ flatten: true });
        (assigned.length ? assigned : node.childNodes).forEach(walk);
        return;
      }
      if (node.shadowRoot) { node.shadowRoot.childNodes.forEach(walk); return; }
    }
    node.childNodes.forEach(walk);
  };
  walk(root);
  return out.join(" ");
}
"""


def read(locator: Locator) -> str:
    """The text a person sees in ``locator``, in the order of the page, on one line."""
    text: str = locator.evaluate(_RENDERED_TEXT)
    return " ".join(text.split())


def expect_read(locator: Locator, *patterns: str, timeout: float = TIMEOUT_MS / 1000) -> str:
    """Wait until ``read(locator)`` matches every regular expression of ``patterns``.

    (Playwright's text assertions use the textContent order, which is not the page's for
    Home Assistant's rows.) Returns what was read.
    """

    def matches() -> str | None:
        text = read(locator)
        return text if all(re.search(p, text) for p in patterns) else None

    return wait_for(matches, timeout, lambda: f"{patterns} in: {read(locator)}")


def wait_for_image(image: Locator, timeout: float = TIMEOUT_MS / 1000) -> None:
    """Wait until ``image`` is loaded and drawn (networkidle may come before its request)."""

    def drawn() -> bool:
        loaded: bool = image.evaluate("image => image.complete && image.naturalWidth > 0")
        return loaded

    wait_for(drawn, timeout, lambda: f"the image {image} to load")


def save(page: Page, directory: Path, name: str) -> None:
    path = directory / f"{name}.png"
    size = page.viewport_size
    assert size is not None
    page.mouse.move(0, size["height"] - 1)  # no hover highlight
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    pngquant = shutil.which("pngquant")
    if pngquant and directory == README_SHOTS:
        subprocess.run(
            [
                pngquant,
                "--force",
                "--skip-if-larger",
                "--quality=70-95",
                "--strip",
                "--ext",
                ".png",
                str(path),
            ],
            check=False,
            capture_output=True,
        )


@contextlib.contextmanager
def browser_page(profile: Path, phase: Phases) -> Iterator[Page]:
    """A Chromium page (1280x800) with a fresh profile; JavaScript errors printed at the end."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with phase("browser: start Playwright's driver"):
        playwright = sync_playwright().start()
    try:
        with phase("browser: start Chromium"):
            # Playwright passes the fresh profile as --user-data-dir.
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport=VIEWPORT,
                locale="en-GB",
            )
        try:
            context.set_default_timeout(TIMEOUT_MS)
            page = context.pages[0] if context.pages else context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page
            if errors:
                phase.say("JavaScript errors on the pages:\n  " + "\n  ".join(errors))
        finally:
            with phase("browser: close"):
                context.close()
    finally:
        playwright.stop()


def fill_dashboard(text: str, hub: str, devices: dict[str, str]) -> dict[str, Any]:
    """dashboards/iot_hub.yaml for this instance, as the README tells users to adapt it."""
    text = text.replace("iot_hub_127_0_0_1_1883", hub)

    def device(match: re.Match[str]) -> str:
        return devices.get(match.group(1).lower(), match.group(0))

    config = parse_yaml(re.sub(r"PICK_THE_(\w+?)_DEVICE", device, text))
    assert isinstance(config, dict)
    return config


def remove_offline_leftovers(client: Client) -> None:
    """Delete the Radio Browser entry onboarding adds: offline, it only retries.

    It would show in red behind every dialog; a person without internet would delete it.
    (The startup is over: the entry is there if onboarding could add it.)
    """
    entries = client.call("GET", "/api/config/config_entries/entry?domain=radio_browser")
    for entry in entries:
        if entry["domain"] == "radio_browser":
            client.call("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")


def log_in(page: Page, url: str) -> None:
    """Log in as the onboarded owner, as a person does on the welcome page."""
    from playwright.sync_api import expect

    page.goto(url + "/")
    expect(page.get_by_text("Welcome home!")).to_be_visible()
    page.get_by_role("textbox", name="Username").fill(USER["username"])
    page.get_by_role("textbox", name="Password").fill(USER["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Settings")).to_be_visible()
    assert "/auth/" not in page.url
