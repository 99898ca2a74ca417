"""Google discovery documents as request/response checkers, loaded from google-api-python-client.

A discovery schema is close to JSON Schema; the converter below closes the gaps so that a
request body that drifts from the spec (a misspelt field, a number where the API declares an
int64 string, a read-only field sent, a required field left out) fails:

- `$ref: "Name"` becomes `#/$defs/Name`;
- objects allow no properties beyond those declared (unless the schema has
  `additionalProperties`);
- int64/uint64 strings must be decimal strings, int32 integers stay in range;
- in *request* mode, read-only (output-only) properties are forbidden, and a property is
  required when its description starts with "Required." (Google's convention) or its
  `annotations.required` lists the method.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from googleapiclient.discovery_cache import get_static_doc
from jsonschema import Draft202012Validator

INT32 = {"minimum": -(2**31), "maximum": 2**31 - 1}


@cache
def load_discovery(api: str, version: str) -> dict[str, Any]:
    """The discovery document shipped in google-api-python-client (never a network fetch)."""
    text = get_static_doc(api, version)
    if text is None:
        raise LookupError(f"google-api-python-client ships no discovery document {api}.{version}")
    document: dict[str, Any] = json.loads(text)
    return document


def _methods(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for resource in resources.values():
        for method in resource.get("methods", {}).values():
            found[method["id"]] = method
        found.update(_methods(resource.get("resources", {})))
    return found


def _is_required(prop: dict[str, Any], method_id: str) -> bool:
    if str(prop.get("description", "")).startswith("Required."):
        return True
    return method_id in prop.get("annotations", {}).get("required", [])


def _convert(node: dict[str, Any], *, request: bool, method_id: str) -> dict[str, Any]:
    if "$ref" in node:
        return {"$ref": f"#/$defs/{node['$ref']}"}
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, prop in node.get("properties", {}).items():
            if request and prop.get("readOnly"):
                properties[name] = False  # output only: a request must not send it
                continue
            properties[name] = _convert(prop, request=request, method_id=method_id)
            if request and _is_required(prop, method_id):
                required.append(name)
        out: dict[str, Any] = {"type": "object", "properties": properties}
        extra = node.get("additionalProperties")
        out["additionalProperties"] = (
            _convert(extra, request=request, method_id=method_id) if extra else False
        )
        if required:
            out["required"] = required
        return out
    if kind == "array":
        return {
            "type": "array",
            "items": _convert(node.get("items", {}), request=request, method_id=method_id),
        }
    if kind == "string":
        out = {"type": "string"}
        if node.get("format") in ("int64", "uint64"):
            out["pattern"] = r"^-?[0-9]+$"
        elif node.get("format") == "google-duration":
            out["pattern"] = r"^-?[0-9]+(\.[0-9]+)?s$"
        if "enum" in node:
            out["enum"] = node["enum"]
        return out
    if kind == "integer":
        return {"type": "integer", **(INT32 if node.get("format") == "int32" else {})}
    if kind == "number":
        return {"type": "number"}
    if kind == "boolean":
        return {"type": "boolean"}
    return {}  # "any"


class DiscoveryChecker:
    """Validates bodies of one API's methods against its discovery document."""

    def __init__(self, api: str, version: str) -> None:
        self.document = load_discovery(api, version)
        self.methods = _methods(self.document["resources"])
        self._validators: dict[tuple[str, str], Draft202012Validator] = {}

    def _validator(self, method_id: str, part: str) -> Draft202012Validator:
        key = (method_id, part)
        if key not in self._validators:
            method = self.methods[method_id]
            request = part == "request"
            defs = {
                name: _convert(schema, request=request, method_id=method_id)
                for name, schema in self.document["schemas"].items()
            }
            schema = {"$ref": f"#/$defs/{method[part]['$ref']}", "$defs": defs}
            Draft202012Validator.check_schema(schema)
            self._validators[key] = Draft202012Validator(schema)
        return self._validators[key]

    def request_errors(self, method_id: str, body: Any) -> list[str]:
        """Why `body` is not a valid request for `method_id` (empty when it is)."""
        return self._messages(self._validator(method_id, "request"), body)

    def response_errors(self, method_id: str, body: Any) -> list[str]:
        """Why `body` is not a valid answer of `method_id` (empty when it is)."""
        return self._messages(self._validator(method_id, "response"), body)

    @staticmethod
    def _messages(validator: Draft202012Validator, body: Any) -> list[str]:
        return [
            f"{'/'.join(str(part) for part in error.absolute_path) or '(body)'}: {error.message}"
            for error in validator.iter_errors(body)
        ]


@cache
def google_health_checker() -> DiscoveryChecker:
    return DiscoveryChecker("health", "v4")


@cache
def google_fit_checker() -> DiscoveryChecker:
    return DiscoveryChecker("fitness", "v1")
