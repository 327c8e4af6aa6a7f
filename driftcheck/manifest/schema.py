"""The JSON Schema's environments part, added to what pydantic generates for manifest v1.

Validation never uses it (the effective manifest of each environment is validated against the
plain models, with messages at the winning value's line); it is for editors: the new keys are
known, a deployment may give its ids per environment, an override may be partial, and any
value may be a ``${...}`` reference.
"""

from __future__ import annotations

import copy
from typing import Any

ENVIRONMENT_NAME = r"^[a-z][a-z0-9_-]*$"
VARIABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_-]*$"
_REFERENCE = {
    "type": "string",
    "pattern": r"\$\{(var\.[A-Za-z_][A-Za-z0-9_-]*|env:[A-Za-z_][A-Za-z0-9_]*)\}",
    "description": "${var.NAME} (the environment's vars, --var) or ${env:NAME} (sensitive)",
}
_IDS = ["model_instance_id", "deployment_id"]


def with_environments(schema: dict[str, Any]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    defs = schema["$defs"]
    defs["Reference"] = _REFERENCE
    for name, definition in defs.items():
        if name.endswith("VendorConfiguration"):
            for field, spec in definition["properties"].items():
                if field != "vendor":
                    definition["properties"][field] = _or_reference(spec)
    defs["Environment"] = {
        "type": "object",
        "additionalProperties": False,
        "description": "one environment: its account, base URL and variables",
        "properties": {
            "account_id": {
                "type": "string",
                "minLength": 1,
                "description": "sent as "
                "x-selected-account-id; overrides SGP_ACCOUNT_ID / --account-id",
            },
            "base_url": {
                "type": "string",
                "minLength": 1,
                "description": "overrides SGP_CLIENT_BASE_URL / --base-url",
            },
            "vars": {
                "type": "object",
                "propertyNames": {"pattern": VARIABLE_NAME},
                "description": "values for ${var.NAME}",
            },
        },
    }
    deployment = defs["DeploymentModel"]
    override = copy.deepcopy(deployment)
    override["title"] = "DeploymentInEnvironment"
    override["description"] = (
        "this deployment's ids in one environment, and overrides deep-merged over the rest"
    )
    override["properties"]["vendor_configuration"] = {
        "type": "object",
        "description": "deep-merged over the deployment's vendor_configuration",
    }
    override["required"] = list(_IDS)
    defs["DeploymentInEnvironment"] = override
    deployment["properties"]["environments"] = {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": ENVIRONMENT_NAME},
        "additionalProperties": {"$ref": "#/$defs/DeploymentInEnvironment"},
        "description": "the environments this deployment exists in, with its ids there",
    }
    deployment["required"] = [r for r in deployment.get("required", []) if r not in _IDS]
    if not deployment["required"]:
        del deployment["required"]
    deployment["anyOf"] = [{"required": list(_IDS)}, {"required": ["environments"]}]
    schema["properties"]["environments"] = {
        "type": "object",
        "minProperties": 1,
        # `all` is reserved: --env all selects every environment
        "propertyNames": {"pattern": ENVIRONMENT_NAME, "not": {"const": "all"}},
        "additionalProperties": {"anyOf": [{"$ref": "#/$defs/Environment"}, {"type": "null"}]},
        "description": "environments of the set (each name defined once, in any file)",
    }
    return schema


def _or_reference(spec: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in spec.items() if k in ("default", "description", "title")}
    value = {k: v for k, v in spec.items() if k not in kept}
    return {**kept, "anyOf": [value, {"$ref": "#/$defs/Reference"}]}
