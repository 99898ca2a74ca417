"""JSON to and from providers: strict answers (`parse_json`) and request bodies (`dump_json`).

A provider's answer must be JSON as RFC 8259 defines it: no NaN or Infinity, no number that
overflows a float. orjson parses that several times faster than the standard library (the
daily run parses one answer per member), but turns an integer beyond 64 bits into a float;
a body with a run of 19 digits or more, or one orjson refuses, is therefore parsed by the
standard library, with the same strictness, which decides those exactly. Request bodies are
encoded by orjson, compact UTF-8.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import orjson

# Digits stay "0", every other byte becomes a space: a run of 19 digits is then a substring
# (a translate and a search are C loops, several times faster than a regular expression).
_ONLY_DIGITS = bytes(ord("0") if ord("0") <= byte <= ord("9") else ord(" ") for byte in range(256))
_LONG_DIGITS = b"0" * 19


def parse_json(body: bytes) -> Any:
    """The parsed body; ValueError (or UnicodeDecodeError, RecursionError) when it is not
    strict JSON."""
    if _LONG_DIGITS not in body.translate(_ONLY_DIGITS):
        with contextlib.suppress(orjson.JSONDecodeError):
            return orjson.loads(body)
    return json.loads(body, parse_float=_finite, parse_constant=_not_json)


def dump_json(value: Any) -> bytes:
    """A request body (str keys, no NaN: what providers are sent)."""
    return orjson.dumps(value)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400
        raise ValueError("a number out of range")
    return number


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")  # NaN, Infinity: Python's extensions
