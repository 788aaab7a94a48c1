"""The broker setup's forms: fields, secrets kept out of them, and certificate uploads."""

from typing import Any, Final

from homeassistant.components.file_upload import process_uploaded_file
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    FileSelector,
    FileSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from ..const import (
    CONF_CA_PEM,
    CONF_CLIENT_CERT_PEM,
    CONF_CLIENT_KEY_PEM,
    CONF_KEEPALIVE,
    CONF_PROTOCOL,
    CONF_TLS,
    CONF_TRANSPORT,
    CONF_WS_PATH,
    DEFAULT_KEEPALIVE,
    DEFAULT_PORT,
    DEFAULT_WS_PATH,
)
from ..core.mqtt.errors import ConnectFailure
from ..core.mqtt.pem import MAX_PEM_FILE_BYTES, PemKind, to_pem
from ..core.mqtt.settings import Protocol, TlsMode, Transport

# Errors that belong to the TLS step (the user fixes them there), on the field to change.
# The broker's certificate (unverifiable, or expired: its administrator must renew it)
# and other TLS failures concern no field.
TLS_FAILURES: Final = {
    ConnectFailure.INVALID_CA: CONF_CA_PEM,
    ConnectFailure.INVALID_CLIENT_CERT: CONF_CLIENT_CERT_PEM,
    ConnectFailure.CLIENT_CERT_EXPIRED: CONF_CLIENT_CERT_PEM,
    ConnectFailure.CLIENT_CERT_REJECTED: CONF_CLIENT_CERT_PEM,
    ConnectFailure.CLIENT_CERT_REQUIRED: CONF_CLIENT_CERT_PEM,
    ConnectFailure.INVALID_CERTIFICATE: "base",
    ConnectFailure.CERTIFICATE_EXPIRED: "base",
    ConnectFailure.TLS_ERROR: "base",
}
# Optional fields are stored explicitly as None: entry matching needs the key.
OPTIONAL_BROKER_FIELDS: Final = (CONF_USERNAME, CONF_PASSWORD)
OPTIONAL_TLS_FIELDS: Final = (CONF_CA_PEM, CONF_CLIENT_CERT_PEM, CONF_CLIENT_KEY_PEM)
# Stored secrets never go back to the browser. The reconfigure form shows this in the
# password field instead (as Home Assistant's MQTT integration does); sent back untouched,
# or the field left empty, it keeps the stored password. The key field is left empty.
KEEP_PASSWORD: Final = "__**password_not_changed**__"  # noqa: S105 (a placeholder)
SECRET_FIELDS: Final = (CONF_PASSWORD, CONF_CLIENT_KEY_PEM)
# Each PEM field has an upload beside it: the file wins over pasted text.
FILE_FIELDS: Final = {
    "ca_file": (CONF_CA_PEM, PemKind.CERTIFICATE),
    "client_cert_file": (CONF_CLIENT_CERT_PEM, PemKind.CERTIFICATE),
    "client_key_file": (CONF_CLIENT_KEY_PEM, PemKind.PRIVATE_KEY),
}
_ACCEPT: Final = {
    PemKind.CERTIFICATE: ".pem,.crt,.cer,.der,application/x-x509-ca-cert",
    PemKind.PRIVATE_KEY: ".pem,.key,.der,.pk8,application/pkcs8",
}

_PEM = TextSelector(TextSelectorConfig(multiline=True))


def _select(options: list[str], key: str) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=options, translation_key=key, mode=SelectSelectorMode.DROPDOWN)
    )


def number_field(minimum: int, maximum: int, unit: str | None = None) -> probatio.All[Any]:
    """Return a whole-number field typed in a box, from `minimum` to `maximum`."""
    config = NumberSelectorConfig(min=minimum, max=maximum, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return probatio.All(NumberSelector(config), probatio.Coerce(int))


BROKER_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(CONF_HOST): TextSelector(),
        probatio.Required(CONF_PORT, default=DEFAULT_PORT): number_field(1, 65535),
        probatio.Required(CONF_TRANSPORT, default=Transport.TCP.value): _select(
            [t.value for t in Transport], CONF_TRANSPORT
        ),
        probatio.Optional(CONF_WS_PATH, default=DEFAULT_WS_PATH): TextSelector(),
        probatio.Required(CONF_TLS, default=TlsMode.OFF.value): _select(
            [m.value for m in TlsMode], CONF_TLS
        ),
        probatio.Optional(CONF_USERNAME): TextSelector(
            TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="username")
        ),
        probatio.Optional(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
        ),
        probatio.Required(CONF_KEEPALIVE, default=DEFAULT_KEEPALIVE): number_field(5, 3600, "s"),
        probatio.Required(CONF_PROTOCOL, default=Protocol.V311.value): _select(
            [p.value for p in Protocol], CONF_PROTOCOL
        ),
    }
)

REAUTH_SCHEMA: Final = probatio.Schema(
    {
        probatio.Optional(CONF_USERNAME): BROKER_SCHEMA.schema[CONF_USERNAME],
        probatio.Optional(CONF_PASSWORD): BROKER_SCHEMA.schema[CONF_PASSWORD],
    }
)


def tls_schema(mode: TlsMode) -> probatio.Schema:
    """Return the TLS form: each certificate or key as an upload, or pasted."""
    fields: dict[Any, Any] = {}
    if mode is TlsMode.CUSTOM_CA:
        fields[probatio.Optional("ca_file")] = _file(PemKind.CERTIFICATE)
        fields[probatio.Optional(CONF_CA_PEM)] = _PEM
    fields[probatio.Required(CONF_VERIFY_SSL, default=True)] = BooleanSelector()
    fields[probatio.Optional("client_cert_file")] = _file(PemKind.CERTIFICATE)
    fields[probatio.Optional(CONF_CLIENT_CERT_PEM)] = _PEM
    fields[probatio.Optional("client_key_file")] = _file(PemKind.PRIVATE_KEY)
    fields[probatio.Optional(CONF_CLIENT_KEY_PEM)] = _PEM
    return probatio.Schema(fields)


def _file(kind: PemKind) -> FileSelector:
    return FileSelector(FileSelectorConfig(accept=_ACCEPT[kind]))


async def async_read_uploads(
    hass: HomeAssistant, user_input: dict[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """Return the PEM text of each uploaded file by its PEM field, and the field errors.

    An upload is read once (the upload component deletes it): the PEM goes into the
    flow's data, so a form shown again after a failed test needs no new upload.
    """
    pems: dict[str, str] = {}
    errors: dict[str, str] = {}
    for file_field, (pem_field, kind) in FILE_FIELDS.items():
        if not (file_id := user_input.get(file_field)):
            continue
        try:
            data = await hass.async_add_executor_job(_read_upload, hass, str(file_id))
            pems[pem_field] = to_pem(data, kind)
        except ValueError, OSError:  # unknown id, unreadable or not a certificate/key
            errors[file_field] = "invalid_file"
    return pems, errors


def _read_upload(hass: HomeAssistant, file_id: str) -> bytes:
    with process_uploaded_file(hass, file_id) as path, path.open("rb") as file:
        # One byte over the limit is enough for to_pem to refuse a huge file.
        return file.read(MAX_PEM_FILE_BYTES + 1)
