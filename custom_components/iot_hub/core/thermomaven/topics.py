"""Read ThermoMaven MQTT topics as the cloud gives them; never build one.

The per-device topic shape differs between sources and maybe between models
(`device/<MODEL>/<deviceId>/pub` for WT11, `app/WT10/<deviceId>/sub` on a real G1), so a
client subscribes to the `subTopics` strings of certificate apply and the device list
verbatim, and reads the deviceId from the third path segment of the topic a message came on.
"""

import re
from typing import Final

# AWS IoT topics are at most 256 bytes; ours are far shorter.
MAX_TOPIC_LENGTH: Final = 256
_SEGMENT_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.:-]{0,63}", re.ASCII)


def valid_subscription(topic: object) -> bool:
    """Whether a cloud-given topic may be subscribed: concrete (no wildcard), sane text.

    AWS IoT drops a connection that subscribes outside the certificate's policy, and a
    wildcard is never in it; so is a topic with empty levels, spaces or control characters.
    """
    return (
        isinstance(topic, str)
        and 0 < len(topic) <= MAX_TOPIC_LENGTH
        and topic.isascii()
        and topic.isprintable()
        and " " not in topic
        and "+" not in topic
        and "#" not in topic
        and "" not in topic.split("/")
    )


def device_id_from_topic(topic: str) -> str | None:
    """Return the third path segment of a topic when it can be a device id, else None.

    `device/WT11/216510650012434433/pub` and `app/WT10/216510650012434433/sub` both give
    `216510650012434433`. On the user topic `app/user/<userId>/sub` the third segment is
    the user id: the caller knows which topics are per-device (the device list says).
    """
    if not valid_subscription(topic):
        return None
    levels = topic.split("/")
    if len(levels) < 3 or _SEGMENT_ID.fullmatch(levels[2]) is None:
        return None
    return levels[2]
