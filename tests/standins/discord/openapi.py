"""Discord's OpenAPI spec for the stand-in: load it once, validate request bodies, shape responses.

The spec (OpenAPI 3.1, so its schemas are JSON Schema 2020-12) is not committed. It is read from
``$DISCORD_OPENAPI_SPEC`` or ``<repo>/../shared/reference/discord-openapi.json``. Validators are
compiled lazily, one per (method, route template, content type), with every ``#/components/...``
reference resolved through a :mod:`referencing` registry that holds the whole document.

Responses are *shaped* from the same document: :meth:`DiscordSpec.shape` takes the payload the
stand-in built and adds every field the response schema marks as required and the payload lacks
(snowflakes as strings, ISO-8601 timestamps, ``null`` where the schema allows it, and so on).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_ENV_VAR = "DISCORD_OPENAPI_SPEC"
SPEC_URI = "urn:stride:discord-openapi"
REQUEST_SPEC_URI = "urn:stride:discord-openapi-requests"
_REPO_ROOT = Path(__file__).resolve().parents[3]
_MAX_MESSAGE_CHARS = 300
_MAX_FILL_DEPTH = 12
_DISCORD_EPOCH_MS = 1_420_070_400_000

JsonObject = dict[str, Any]


class SpecUnavailableError(RuntimeError):
    """The spec file is missing where it is required (under ``CI=true``)."""


@dataclass(frozen=True)
class SchemaViolation:
    """A request body that does not match its route's request schema."""

    route: str
    body_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.route}: body at {self.body_path}: {self.message}"


def default_spec_path() -> Path:
    """Where the spec lives when ``$DISCORD_OPENAPI_SPEC`` is not set."""
    return _REPO_ROOT.parent / "shared" / "reference" / "discord-openapi.json"


def configured_spec_path(environ: Mapping[str, str] | None = None) -> Path:
    """The spec path chosen by the environment."""
    env = os.environ if environ is None else environ
    configured = env.get(SPEC_ENV_VAR)
    return Path(configured) if configured else default_spec_path()


def running_in_ci(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("CI", "").strip().lower() == "true"


def spec_from_environment(environ: Mapping[str, str] | None = None) -> DiscordSpec | None:
    """The spec, or ``None`` if the file is missing outside CI.

    Raises:
        SpecUnavailableError: the file is missing and ``CI=true``.
    """
    path = configured_spec_path(environ)
    if path.is_file():
        return load_spec(path)
    if running_in_ci(environ):
        raise SpecUnavailableError(
            f"Discord's OpenAPI spec is required under CI=true but {path} does not exist "
            f"(set {SPEC_ENV_VAR})"
        )
    return None


@functools.cache
def load_spec(path: Path) -> DiscordSpec:
    """Parse the spec at ``path`` once per process."""
    with path.open(encoding="utf-8") as handle:
        return DiscordSpec(json.load(handle))


def new_snowflake() -> int:
    """A fresh, unique snowflake whose timestamp is now."""
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    return ((now_ms - _DISCORD_EPOCH_MS) << 22) | (next(_snowflake_counter) & 0x3FFFFF)


_snowflake_counter = itertools.count(1)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def _escape_pointer_segment(segment: str) -> str:
    return quote(segment.replace("~", "~0").replace("/", "~1"), safe="")


def _json_pointer(*segments: str) -> str:
    return "".join("/" + _escape_pointer_segment(segment) for segment in segments)


def _describe_error_path(error: ValidationError) -> str:
    parts = [str(part) for part in error.absolute_path]
    return "/" + "/".join(parts) if parts else "(root)"


def _shorten(text: str, limit: int = _MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _readable_message(error: ValidationError) -> str:
    """The validator's message with a long offending value cut down to size."""
    full = repr(error.instance)
    message = error.message.replace(full, _shorten(full, 60)) if len(full) > 60 else error.message
    return _shorten(f"{message} (schema keyword {error.validator!r})")


def _is_discriminator_failure(error: ValidationError) -> bool:
    """Whether a union branch failed because the value is of another kind altogether."""
    relative = list(error.relative_path)
    if not relative and error.validator == "type":
        return True
    return relative == ["type"] and error.validator in ("enum", "const")


def _most_relevant(error: ValidationError) -> ValidationError:
    """Descend into ``anyOf``/``oneOf`` failures to the branch the value was meant for."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub_error in error.context:
            branches.setdefault(sub_error.relative_schema_path[0], []).append(sub_error)
        viable = [
            errors
            for errors in branches.values()
            if not any(_is_discriminator_failure(e) for e in errors)
        ]
        if len(viable) != 1:
            return best_match([error]) or error
        error = best_match(viable[0]) or viable[0][0]
    return error


def _widen_request_snowflakes(document: JsonObject) -> JsonObject:
    """The document with ``SnowflakeType`` also accepting integers, as Discord does in requests.

    The spec describes snowflakes as strings only, but Discord parses integer snowflakes in
    request bodies, and discord.py sends integers (for example attachment ids ``0..n`` in
    multipart messages). Only the request-side copy is widened; responses stay strict.
    """
    schemas = document["components"]["schemas"]
    widened = {"anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]}
    return {
        **document,
        "components": {**document["components"], "schemas": {**schemas, "SnowflakeType": widened}},
    }


class DiscordSpec:
    """One parsed copy of Discord's OpenAPI document."""

    def __init__(self, document: JsonObject) -> None:
        self.document = document
        self._registry: Registry[Any] = Registry().with_resources(
            [
                (SPEC_URI, DRAFT202012.create_resource(document)),
                (
                    REQUEST_SPEC_URI,
                    DRAFT202012.create_resource(_widen_request_snowflakes(document)),
                ),
            ]
        )
        self._validators: dict[tuple[str, str, str], Draft202012Validator | None] = {}
        self._local_refs: dict[str, Any] = {}
        self.filler = SchemaFiller(self)

    # --- routes -------------------------------------------------------------------------

    def operation(self, method: str, template: str) -> JsonObject | None:
        path_item = self.document["paths"].get(template)
        if path_item is None:
            return None
        operation = path_item.get(method.lower())
        return operation if isinstance(operation, dict) else None

    def has_operation(self, method: str, template: str) -> bool:
        return self.operation(method, template) is not None

    def request_violations(
        self, method: str, template: str, content_type: str, body: Any
    ) -> list[SchemaViolation]:
        """Everything wrong with ``body`` for this route, empty if it conforms.

        ``body`` is the parsed JSON (for multipart requests: the parsed ``payload_json``), or
        ``None`` when the request had no body.
        """
        route = f"{method.upper()} {template}"
        operation = self.operation(method, template)
        if operation is None or "requestBody" not in operation:
            return []
        if body is None:
            if operation["requestBody"].get("required", False):
                return [SchemaViolation(route, "(root)", "a request body is required")]
            return []
        validator = self._request_validator(method, template, content_type)
        if validator is None:
            return []
        return [
            self._violation(route, error)
            for error in sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        ]

    @staticmethod
    def _violation(route: str, error: ValidationError) -> SchemaViolation:
        best = _most_relevant(error)
        return SchemaViolation(route, _describe_error_path(best), _readable_message(best))

    def _request_validator(
        self, method: str, template: str, content_type: str
    ) -> Draft202012Validator | None:
        key = (method.lower(), template, content_type)
        if key not in self._validators:
            self._validators[key] = self._compile_request_validator(*key)
        return self._validators[key]

    def _compile_request_validator(
        self, method: str, template: str, content_type: str
    ) -> Draft202012Validator | None:
        operation = self.operation(method, template)
        assert operation is not None
        content: JsonObject = operation["requestBody"].get("content", {})
        chosen = content_type if content_type in content else "application/json"
        if chosen not in content or "schema" not in content[chosen]:
            return None
        pointer = _json_pointer(
            "paths", template, method, "requestBody", "content", chosen, "schema"
        )
        return self._validator_for({"$ref": f"{REQUEST_SPEC_URI}#{pointer}"})

    def _validator_for(self, schema: JsonObject) -> Draft202012Validator:
        return Draft202012Validator(schema, registry=self._registry)

    def _response_pointer(self, method: str, template: str, status: int) -> str | None:
        """JSON pointer to the JSON schema of a response (following a ``$ref``'d response)."""
        operation = self.operation(method, template)
        if operation is None or str(status) not in operation.get("responses", {}):
            return None
        response = operation["responses"][str(status)]
        pointer = _json_pointer("paths", template, method.lower(), "responses", str(status))
        if isinstance(response.get("$ref"), str) and response["$ref"].startswith("#/"):
            pointer, response = response["$ref"][1:], self.resolve(response)
        if "schema" not in response.get("content", {}).get("application/json", {}):
            return None
        return pointer + _json_pointer("content", "application/json", "schema")

    def response_schema(self, method: str, template: str, status: int = 200) -> JsonObject | None:
        pointer = self._response_pointer(method, template, status)
        return None if pointer is None else self._lookup_local("#" + pointer)

    def response_violations(
        self, method: str, template: str, status: int, body: Any
    ) -> list[SchemaViolation]:
        """How a body the stand-in sends departs from the response schema (a stand-in bug)."""
        key = (f"response {status}", template, method.lower())
        if key not in self._validators:
            pointer = self._response_pointer(method, template, status)
            self._validators[key] = (
                None if pointer is None else self._validator_for({"$ref": f"{SPEC_URI}#{pointer}"})
            )
        validator = self._validators[key]
        if validator is None:
            return []
        route = f"{method.upper()} {template} -> {status}"
        return [self._violation(route, error) for error in validator.iter_errors(body)]

    # --- components ---------------------------------------------------------------------

    def component(self, name: str) -> JsonObject:
        schema = self.document["components"]["schemas"][name]
        assert isinstance(schema, dict)
        return schema

    def resolve(self, node: Any) -> Any:
        """Follow ``$ref`` chains to the node they point at."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                return node
            node = self._lookup_local(ref)
            seen += 1
            if seen > _MAX_FILL_DEPTH:
                raise ValueError(f"reference loop at {ref}")
        return node

    def _lookup_local(self, ref: str) -> Any:
        if ref not in self._local_refs:
            node: Any = self.document
            for raw in unquote(ref[2:]).split("/"):
                node = node[raw.replace("~1", "/").replace("~0", "~")]
            self._local_refs[ref] = node
        return self._local_refs[ref]

    # --- shaping responses --------------------------------------------------------------

    def shape(self, method: str, template: str, payload: Any, status: int = 200) -> Any:
        """``payload`` with the response schema's missing required fields filled in."""
        schema = self.response_schema(method, template, status)
        return payload if schema is None else self.filler.fill(schema, payload)

    def shape_component(self, name: str, payload: Any) -> Any:
        return self.filler.fill(self.component(name), payload)


_MISSING: Any = object()


class SchemaFiller:
    """Builds the smallest instance of a schema, or completes a partial one.

    Only *required* properties are added. Values the caller gave are kept as they are, and
    nested objects the caller gave are completed with the schema of their property.
    """

    def __init__(
        self,
        spec: DiscordSpec,
        *,
        new_id: Callable[[], int] = new_snowflake,
        now: Callable[[], str] = iso_now,
    ) -> None:
        self._spec = spec
        self._new_id = new_id
        self._now = now

    def fill(self, schema: Any, value: Any = _MISSING, depth: int = 0) -> Any:
        schema = self._spec.resolve(schema)
        if depth > _MAX_FILL_DEPTH or not isinstance(schema, dict):
            return None if value is _MISSING else value
        if value is _MISSING:
            return self.default(schema, depth)
        if isinstance(value, dict):
            object_schema = self._object_schema_for(schema, value)
            return (
                value if object_schema is None else self._fill_object(object_schema, value, depth)
            )
        if isinstance(value, list):
            items = self._items_schema(schema)
            return value if items is None else [self.fill(items, item, depth + 1) for item in value]
        return value

    def default(self, schema: Any, depth: int = 0) -> Any:
        schema = self._spec.resolve(schema)
        if not isinstance(schema, dict) or depth > _MAX_FILL_DEPTH:
            return None
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches and "type" not in schema:
            if any(self._is_null_schema(branch) for branch in branches):
                return None
            return self.default(branches[0], depth + 1)
        kind = self._primary_type(schema)
        if kind is None:
            return None
        if kind in ("integer", "number"):
            return self._default_number(schema)
        return self._default_by_type(kind, schema, depth)

    def _default_by_type(self, kind: str, schema: JsonObject, depth: int) -> Any:
        if kind == "string":
            return self._default_string(schema)
        if kind == "boolean":
            return False
        if kind == "array":
            return []
        if kind == "object":
            merged = self._merged_object(schema)
            return self._fill_object(merged, {}, depth)
        return None

    def _default_string(self, schema: JsonObject) -> str:
        fmt = schema.get("format")
        if fmt == "snowflake":
            return str(self._new_id())
        if fmt == "date-time":
            return self._now()
        if fmt == "uri":
            return "https://stand-in.invalid/"
        return "x" * int(schema.get("minLength", 0))

    def _default_number(self, schema: JsonObject) -> Any:
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches:
            consts = [b["const"] for b in branches if isinstance(b, dict) and "const" in b]
            if consts:
                return consts[0]
        minimum = schema.get("minimum", 0)
        return max(0, minimum) if isinstance(minimum, int | float) else 0

    def _primary_type(self, schema: JsonObject) -> str | None:
        declared = schema.get("type")
        if isinstance(declared, list):
            if "null" in declared:
                return "null"
            return str(declared[0]) if declared else None
        if isinstance(declared, str):
            return declared
        if "properties" in schema or "allOf" in schema:
            return "object"
        return None

    def _is_null_schema(self, branch: Any) -> bool:
        branch = self._spec.resolve(branch)
        return isinstance(branch, dict) and branch.get("type") == "null"

    def _merged_object(self, schema: JsonObject) -> JsonObject:
        """Properties and required names of a schema and all of its ``allOf`` parts."""
        properties: JsonObject = dict(schema.get("properties", {}))
        required: list[str] = list(schema.get("required", []))
        for part in schema.get("allOf", []):
            resolved = self._spec.resolve(part)
            if isinstance(resolved, dict):
                nested = self._merged_object(resolved)
                properties.update(nested["properties"])
                required.extend(name for name in nested["required"] if name not in required)
        return {"properties": properties, "required": required}

    def _object_schema_for(self, schema: JsonObject, value: JsonObject) -> JsonObject | None:
        branches = schema.get("oneOf") or schema.get("anyOf")
        if branches:
            chosen = self._choose_branch(branches, value)
            return None if chosen is None else self._merged_object(chosen)
        if self._primary_type(schema) in ("object", "null") or "properties" in schema:
            return self._merged_object(schema)
        return None

    def _choose_branch(self, branches: list[Any], value: JsonObject) -> JsonObject | None:
        candidates = [
            resolved
            for resolved in (self._spec.resolve(branch) for branch in branches)
            if isinstance(resolved, dict) and not self._is_null_schema(resolved)
        ]
        compatible = [c for c in candidates if self._discriminators_agree(c, value)]
        if not compatible:
            return None
        return max(compatible, key=lambda c: self._shared_keys(c, value))

    def _discriminators_agree(self, schema: JsonObject, value: JsonObject) -> bool:
        properties = self._merged_object(schema)["properties"]
        for name, given in value.items():
            prop = self._spec.resolve(properties.get(name))
            if not isinstance(prop, dict):
                continue
            if "enum" in prop and given not in prop["enum"]:
                return False
            if "const" in prop and given != prop["const"]:
                return False
        return True

    def _shared_keys(self, schema: JsonObject, value: JsonObject) -> int:
        return len(set(self._merged_object(schema)["properties"]) & set(value))

    def _items_schema(self, schema: JsonObject) -> Any:
        if "items" in schema:
            return schema["items"]
        for branch in schema.get("oneOf") or schema.get("anyOf") or []:
            resolved = self._spec.resolve(branch)
            if isinstance(resolved, dict) and "items" in resolved:
                return resolved["items"]
        return None

    def _fill_object(self, merged: JsonObject, value: JsonObject, depth: int) -> JsonObject:
        properties: JsonObject = merged["properties"]
        result: JsonObject = {}
        for name in merged["required"]:
            if name not in value:
                result[name] = self.default(properties.get(name, {}), depth + 1)
        for name, given in value.items():
            result[name] = (
                self.fill(properties[name], given, depth + 1) if name in properties else given
            )
        return result
