"""paho's PUBACK, SUBACK and UNSUBACK callbacks: they resolve the client's ack waiters."""

from typing import Any

from paho.mqtt.client import Client
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ._paho import PahoClient
from .acks import AckWaiters
from .errors import MqttError, MqttSubscriptionRefusedError


def wire_acks(paho: PahoClient, acks: AckWaiters) -> None:
    """Resolve `acks` by message id from paho's acknowledgement callbacks."""

    def on_publish(
        client: Client, userdata: Any, mid: int, reason_code: ReasonCode, properties: Properties
    ) -> None:
        refused = reason_code.is_failure
        acks.resolve(mid, MqttError(f"broker refused publish: {reason_code}") if refused else None)

    def on_subscribe(
        client: Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties,
    ) -> None:
        refused = [str(code) for code in reason_codes if code.is_failure]
        acks.resolve(
            mid,
            MqttSubscriptionRefusedError(f"subscription refused: {refused}") if refused else None,
        )

    def on_unsubscribe(
        client: Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        acks.resolve(mid)

    paho.on_publish = on_publish
    paho.on_subscribe = on_subscribe
    paho.on_unsubscribe = on_unsubscribe
