"""Constants of the IoT Hub integration."""

from typing import Final

DOMAIN: Final = "iot_hub"

# Broker entry data (connection settings).
CONF_TRANSPORT: Final = "transport"
CONF_WS_PATH: Final = "ws_path"
CONF_TLS: Final = "tls"
CONF_CA_PEM: Final = "ca_pem"
CONF_CLIENT_CERT_PEM: Final = "client_cert_pem"
CONF_CLIENT_KEY_PEM: Final = "client_key_pem"
CONF_KEEPALIVE: Final = "keepalive"
CONF_PROTOCOL: Final = "protocol"
CONF_CLIENT_ID: Final = "client_id"

# Broker entry options (behaviour, not connection).
CONF_CLEAN_SESSION: Final = "clean_session"
CONF_AVAILABILITY_GRACE: Final = "availability_grace"

DEFAULT_PORT: Final = 1883
DEFAULT_WS_PATH: Final = "/mqtt"
DEFAULT_KEEPALIVE: Final = 60
DEFAULT_AVAILABILITY_GRACE: Final = 30

# Seed 000: the DHT11 publishes here (QoS 1).
DHT11_TOPIC: Final = "dht11/sensor/data"
# The DHT11 topic carries no device id: one stable id for its device.
DHT11_DEVICE_ID: Final = "dht11"
