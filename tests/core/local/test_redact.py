"""What diagnostics and logs show of a refused message: a redacted, capped, printable sample."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import orjson
import pytest

from custom_components.iot_hub.core.local.redact import REDACTED, payload_sample, printable

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLE = 256
SECRET = "hunter2-SECRET"
MAX_QUOTED = 120


def _nested(openers: str, inner: str = "0") -> str:
    """`openers` is a string of "[" and "{": each opens one level (objects under key "k")."""
    text = inner
    for opener in reversed(openers):
        text = f"[{text}]" if opener == "[" else f'{{"k":{text}}}'
    return text


@pytest.mark.parametrize("depth", [254, 255, 256, 300, 511, 1023, 1024])
@pytest.mark.parametrize("opener", ["[", "{"])
def test_deep_nesting_gives_a_sample(depth: int, opener: str) -> None:
    """orjson parses 1024 levels but writes only 255: the sample must not depend on that."""
    payload = _nested(opener * depth).encode()
    for limit in (SAMPLE, len(payload)):
        sample = payload_sample(payload, limit)
        # The payload's first levels (it is compact and holds no secret)...
        assert sample[:10] == payload[:10].decode()
        if len(payload) <= limit * 4:  # ...then, when parsed, an elision
            assert f'"{opener}…' in sample
        assert len(sample) <= limit


def test_the_reported_payload_gives_a_sample() -> None:
    assert payload_sample(b"[" * 300 + b"]" * 300, SAMPLE).startswith("[[[")


def test_secrets_are_redacted_at_any_depth() -> None:
    shallow = orjson.dumps({"password": SECRET, "temperature": 20, "nested": {"api_key": SECRET}})
    assert payload_sample(shallow, SAMPLE) == (
        f'{{"password":"{REDACTED}","temperature":20,"nested":{{"api_key":"{REDACTED}"}}}}'
    )
    deep = _nested("[{" * 200, orjson.dumps({"token": SECRET}).decode()).encode()
    assert SECRET not in payload_sample(deep, len(deep))


@pytest.mark.parametrize(
    ("payload", "sample"),
    [
        (b'{"password":"hunter2","t":NaN}', f'{{"password":"{REDACTED}","t":NaN}}'),
        (b"{'Token': 'hunter2', 't': nan}", f"{{'Token': \"{REDACTED}\", 't': nan}}"),
        (b"api_key=hunter2&t=20", f'api_key="{REDACTED}"&t=20'),
        (b"secret: hunter2, t: 20", f'secret: "{REDACTED}", t: 20'),
        (b'{"a":"b","auth":"hun\\"ter2","c":1', f'{{"a":"b","auth":"{REDACTED}","c":1'),
        (b'{"d": {"password": "hunter2"}, "t": 1', f'{{"d": {{"password": "{REDACTED}"}}, "t": 1'),
        (b'{"note": "key: hunter2", "t": 1', b'{"note": "key: hunter2", "t": 1'.decode()),
        (b'{"password": "hunter2', f'{{"password": "{REDACTED}"'),  # cut short
    ],
)
def test_secrets_are_hidden_in_what_is_not_parsed(payload: bytes, sample: str) -> None:
    """Not JSON (a MicroPython dict's repr, NaN, a form), or cut: a best effort all the same."""
    assert payload_sample(payload, SAMPLE) == sample


def test_secrets_are_hidden_in_a_payload_too_large_to_parse() -> None:
    payload = b'{"temperature": 20, "password": "hunter2",' + b" " * 2000 + b"}"
    assert payload_sample(payload, SAMPLE).rstrip() == (
        f'{{"temperature": 20, "password": "{REDACTED}",'
    )


def test_non_json_is_cut_and_decoded() -> None:
    assert payload_sample(b"not json", SAMPLE) == "not json"
    assert payload_sample(b"\xff" * 1000, SAMPLE) == "\ufffd" * SAMPLE


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(["password", "Token"]), children)
    ),
    max_leaves=40,
)


@FUZZ
@given(payload=st.binary(max_size=2048), limit=st.integers(min_value=0, max_value=1024))
def test_payload_sample_never_raises_on_bytes(payload: bytes, limit: int) -> None:
    sample = payload_sample(payload, limit)
    assert isinstance(sample, str)
    assert len(sample) <= limit


@FUZZ
@given(value=json_values, limit=st.integers(min_value=0, max_value=4096))
def test_payload_sample_never_raises_on_json(value: Any, limit: int) -> None:
    payload = json.dumps(value).encode()
    sample = payload_sample(payload, limit)
    assert len(sample) <= limit


@FUZZ
@given(
    depth=st.integers(min_value=1, max_value=1100),
    pattern=st.text(alphabet="[{", min_size=1, max_size=4),
    inner=st.sampled_from(["0", "[]", "{}", '"x"', f'{{"secret":"{SECRET}"}}']),
    limit=st.integers(min_value=0, max_value=8192),
    garbage=st.binary(max_size=4),
)
def test_payload_sample_never_raises_on_deep_nesting(
    depth: int, pattern: str, inner: str, limit: int, garbage: bytes
) -> None:
    payload = _nested((pattern * depth)[:depth], inner).encode()
    for candidate in (payload, payload + garbage, payload[: len(payload) // 2]):
        sample = payload_sample(candidate, limit)
        assert len(sample) <= limit
        # Parsed or not (too large, too deep for orjson, cut), the secret is not shown.
        assert "hunter2" not in sample


# --------------------------------------------------------------------------- printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("iot/sensors/ESP32_001/data", "iot/sensors/ESP32_001/data"),
        ("sensor/café", "sensor/café"),
        ("a\nb", "a\\nb"),
        ("a\u2028b\u202ec\x1b[31m", "a\\u2028b\\u202ec\\x1b[31m"),
        ("x" * MAX_QUOTED, "x" * MAX_QUOTED),
        ("x" * (MAX_QUOTED + 1), "x" * MAX_QUOTED + "…"),
        ("x" * 65_000, "x" * MAX_QUOTED + "…"),
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


@FUZZ
@given(text=st.text(), limit=st.integers(min_value=0, max_value=300))
def test_printable_is_capped_and_printable(text: str, limit: int) -> None:
    shown = printable(text, limit)
    assert shown.isprintable()
    assert len(shown) <= limit + 1
    if len(shown) > limit:
        assert shown.endswith("…")
    if text.isprintable() and len(text) <= limit:
        assert shown == text
