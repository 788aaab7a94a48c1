"""Route a message to the decoder of what its topic carries."""

from ..incidents.messages import IncidentCommand, IncidentStatusEcho, decode_incident_command
from .dht11 import decode_dht11, decode_dht11_status
from .events import decode_event
from .iot import decode_iot_alert, decode_iot_data, decode_iot_status
from .models import Alert, Event, Reading, Rejected, Status
from .topics import Kind, Route

type Decoded = Reading | Event | Status | Alert | IncidentCommand | IncidentStatusEcho | Rejected


def decode(route: Route, payload: bytes) -> Decoded:  # noqa: PLR0911
    """Decode a payload by its route; never raises."""
    device_id = route.device_id or ""
    match route.kind:
        case Kind.DHT11_DATA:
            return decode_dht11(payload)
        case Kind.DHT11_STATUS:
            return decode_dht11_status(payload)
        case Kind.DHT11_INCIDENTS:
            return decode_incident_command(payload)
        case Kind.EVENT:
            return decode_event(payload)
        case Kind.IOT_DATA:
            return decode_iot_data(device_id, payload)
        case Kind.IOT_STATUS:
            return decode_iot_status(device_id, payload)
        case Kind.IOT_ALERT:
            return decode_iot_alert(device_id, payload)
