"""Small helpers shared by the provider tests."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest


def query_of(url: str) -> dict[str, str]:
    """The query of `url` as single values (fails on repeated parameters)."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(values) == 1 for values in parsed.values()), parsed
    return {key: values[0] for key, values in parsed.items()}


def assert_no_secrets(caplog: pytest.LogCaptureFixture, *secrets: str | None) -> None:
    """No captured log line (message or arguments, rendered) contains any of `secrets`."""
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "expected the flow to log something"
    for secret in secrets:
        if secret:
            assert secret not in text, "a secret appeared in the logs"
