"""Which topic families an entry listens to, from its options."""

from collections.abc import Mapping
from typing import Any

from ..const import conf_base, conf_enabled
from ..core.local.topics import DEFAULT_BASES, Family


def family_bases(options: Mapping[str, Any]) -> dict[Family, str]:
    """Return enabled families and their base topics (all on by default)."""
    return {
        family: options.get(conf_base(family), default)
        for family, default in DEFAULT_BASES.items()
        if options.get(conf_enabled(family), True)
    }
