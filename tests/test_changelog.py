"""CHANGELOG.md: the manifest's version is its latest release, newest first, each one linked."""

import json
from pathlib import Path
import re

ROOT = Path(__file__).resolve().parents[1]
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
MANIFEST = json.loads((ROOT / "custom_components/iot_hub/manifest.json").read_text("utf-8"))
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", re.MULTILINE)


def releases() -> list[str]:
    return RELEASE.findall(CHANGELOG)


def test_manifest_version_is_the_latest_release() -> None:
    assert releases(), "no '## [x.y.z] - YYYY-MM-DD' heading in CHANGELOG.md"
    assert f"## [{MANIFEST['version']}] - " in CHANGELOG
    assert releases()[0] == MANIFEST["version"]


def test_releases_newest_first_and_linked() -> None:
    found = releases()
    as_numbers = [tuple(int(part) for part in version.split(".")) for version in found]
    assert as_numbers == sorted(as_numbers, reverse=True)
    assert len(set(found)) == len(found)
    for version in ["Unreleased", *found]:
        assert re.search(rf"^\[{re.escape(version)}\]: https://", CHANGELOG, re.MULTILINE), (
            f"no link for [{version}]"
        )
