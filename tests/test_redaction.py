"""`RedactOAuthSecrets`: secrets blanked in log messages and logged exceptions."""

from __future__ import annotations

import json
import logging

from bot.redaction import RedactOAuthSecrets


def test_redaction_filter_leaves_a_malformed_record_to_the_handler() -> None:
    """`stride run` puts the filter on the root handler, so it sees every library's records: a
    record whose arguments do not fit its format must be reported by logging as usual, not
    raise a TypeError at the line that logged it."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactOAuthSecrets())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("%d links", "many")  # a bug in some library's log call
        logger.warning("opened %s", "https://x.example/cb?code=abc123&state=xyz789")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert len(records) == 2
    assert records[1].getMessage() == (
        "opened https://x.example/cb?code=[redacted]&state=[redacted]"
    )


def test_redaction_filter_blanks_secrets_in_a_logged_exception() -> None:
    """aiohttp logs a malformed request to the callback ("Error handling request") with an
    exception whose text quotes the request line, code and state included."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactOAuthSecrets())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("Invalid char in url query: b'GET /cb?code=abc123&state=xyz789'")
        except ValueError:
            logger.exception("Error handling request")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    [record] = records
    text = logging.Formatter().format(record)
    assert "Traceback" in text and "Invalid char in url query" in text
    assert "abc123" not in text and "xyz789" not in text
    assert "code=[redacted]&state=[redacted]" in text


def _logged(message: str, *args: object) -> str:
    """What a handler with the filter writes for one record."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactOAuthSecrets())
    logger = logging.getLogger("tests.redaction.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    [record] = records
    return logging.Formatter("%(message)s").format(record)


def test_a_token_answer_logged_as_json_keeps_only_what_is_not_secret() -> None:
    answer = {
        "access_token": "ya29.a0AfH6SMBx-real-looking",
        "expires_in": 3599,
        "refresh_token": "1//0gLxRefresh-value",
        "scope": "https://www.googleapis.com/auth/fitness.activity.read",
        "token_type": "Bearer",
        "id_token": "eyJhbGciOiJSUzI1NiJ9.payload.sig",
    }
    line = _logged("token endpoint answered 200: %s", json.dumps(answer))
    for secret in ("ya29.a0AfH6SMBx", "1//0gLxRefresh", "eyJhbGciOiJSUzI1NiJ9"):
        assert secret not in line
    assert '"access_token": "[redacted]"' in line
    assert '"expires_in": 3599' in line and '"token_type": "Bearer"' in line
    assert json.loads(line.split(": ", 1)[1])["scope"] == answer["scope"]  # still JSON


def test_states_and_codes_in_json_and_python_reprs_are_blanked() -> None:
    callback = {"state": "Zm9vYmFyLXN0YXRl", "code": "4/0AeaYSHB-code"}
    request = {"client_id": "stride-app", "client_secret": "GOCSPX-s3cret", "code": "c0de-9"}
    line = _logged("callback %s, token request %r", json.dumps(callback, indent=2), request)
    for secret in ("Zm9vYmFyLXN0YXRl", "4/0AeaYSHB", "GOCSPX-s3cret", "c0de-9"):
        assert secret not in line
    assert "'client_secret': '[redacted]'" in line and "'client_id': 'stride-app'" in line


def test_escaped_quotes_inside_a_value_do_not_end_the_blanking() -> None:
    line = _logged('{"state": "half\\"of-the-secret\\"rest", "after": "kept"}')
    assert "half" not in line and "of-the-secret" not in line and "rest" not in line
    assert '"after": "kept"' in line


def test_json_quoted_inside_json_is_blanked_too() -> None:
    """A webhook or provider body logged as a JSON string inside a JSON log line."""
    inner = json.dumps({"refresh_token": 'rt-"quoted"-value', "user": "u-1"})
    line = _logged("%s", json.dumps({"event": "token", "body": inner}))
    assert "rt-" not in line and "quoted" not in line
    assert json.loads(json.loads(line)["body"]) == {"refresh_token": "[redacted]", "user": "u-1"}


def test_a_line_cut_short_inside_a_secret_loses_the_rest() -> None:
    line = _logged('answer (truncated): {"access_token": "ya29.partial-tok')
    assert "ya29" not in line and line.endswith('"access_token": "[redacted]')


def test_names_that_merely_contain_a_secret_name_are_kept() -> None:
    line = _logged('{"postcode": "SW1A 1AA", "state_of_play": "fine", "token_type": "Bearer"}')
    assert line == '{"postcode": "SW1A 1AA", "state_of_play": "fine", "token_type": "Bearer"}'


def test_form_bodies_blank_the_client_secret() -> None:
    line = _logged("POST body grant_type=authorization_code&code=abc123&client_secret=s3cr3t")
    assert line == (
        "POST body grant_type=authorization_code&code=[redacted]&client_secret=[redacted]"
    )
