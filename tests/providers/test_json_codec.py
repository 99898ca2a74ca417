"""Provider JSON (`bot.providers.json_codec`): strict answers parsed exactly, bodies encoded."""

from __future__ import annotations

import json

import pytest

from bot.providers.json_codec import dump_json, parse_json


@pytest.mark.parametrize(
    "body",
    [
        b'{"rollupDataPoints": [{"steps": {"countSum": "8432"}}], "nextPageToken": null}',
        b'[1, -2, 3.25, 1e300, true, false, null, "caf\\u00e9", "\xc3\xa9"]',
        b'  {"a": {"b": [[], {}]}}  ',
    ],
)
def test_an_answer_parses_as_the_standard_library_parses_it(body: bytes) -> None:
    assert parse_json(body) == json.loads(body)


@pytest.mark.parametrize(
    "big", [b"10000000000000000000", b"-9223372036854775809", b"123456789012345678901234567890"]
)
def test_integers_beyond_64_bits_stay_exact(big: bytes) -> None:
    parsed = parse_json(b'{"enddate": ' + big + b"}")
    assert parsed == {"enddate": int(big)} and isinstance(parsed["enddate"], int)


@pytest.mark.parametrize(
    "body", [b"NaN", b"[Infinity]", b'{"x": -Infinity}', b"1e400", b'{"x": -1e400}', b"{", b""]
)
def test_what_is_not_strict_json_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(body)


def test_a_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(ValueError):  # UnicodeDecodeError is a ValueError
        parse_json(b'"\xff"')


def test_request_bodies_are_compact_json() -> None:
    body = {"range": {"start": {"date": {"year": 2026, "month": 6, "day": 1}}}, "pageSize": 7}
    encoded = dump_json(body)
    assert isinstance(encoded, bytes) and json.loads(encoded) == body
    assert b" " not in encoded
