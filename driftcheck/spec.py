"""What the Scale GP API says a deployment looks like: vendor field tables and the response model.

The tables are the single source of truth for vendor defaults and field kinds; the manifest
models, the normalizer and the diff all read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

LAUNCH = "LAUNCH"
LLMENGINE = "LLMENGINE"
VENDORS = (LAUNCH, LLMENGINE)

# The spec's GPUType enum: the manifest model validates against it, messages list it.
GpuType = Literal[
    "nvidia-tesla-t4",
    "nvidia-ampere-a10",
    "nvidia-ampere-a100",
    "nvidia-ampere-a100e",
    "nvidia-hopper-h100",
    "nvidia-hopper-h100-1g20gb",
    "nvidia-hopper-h100-3g40gb",
]
GPU_TYPES: tuple[str, ...] = get_args(GpuType)

NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class VendorField:
    kind: str  # "int" | "quantity" | "bool" | "gpu_type" | "str"
    default: Any = NO_DEFAULT

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


_WORKERS = {
    "min_workers": VendorField("int", 0),
    "max_workers": VendorField("int", 1),
    "per_worker": VendorField("int", 10),
}

VENDOR_FIELDS: dict[str, dict[str, VendorField]] = {
    LAUNCH: dict(_WORKERS),
    LLMENGINE: {
        "cpus": VendorField("int", 3),
        "memory": VendorField("quantity", "8Gi"),
        "storage": VendorField("quantity", "16Gi"),
        "gpus": VendorField("int", 0),
        "gpu_type": VendorField("gpu_type"),
        **_WORKERS,
        "high_priority": VendorField("bool", False),
        "num_shards": VendorField("int", 4),
        "checkpoint_path": VendorField("str"),
        "model_name": VendorField("str"),
        "base_model_name": VendorField("str"),
        "inference_framework_image_tag": VendorField("str"),
    },
}

# Top-level deployment fields a manifest may declare and that are compared as plain values.
SCALAR_FIELDS = ("name", "model_endpoint_id", "status")
# Free-form maps: declared keys are compared, recursively.
FREEFORM_FIELDS = ("model_creation_parameters", "deployment_metadata")
# Set by the server; declaring them would be a promise driftcheck cannot check.
SERVER_MANAGED = (
    "id",
    "created_at",
    "account_id",
    "created_by_user_id",
    "created_by_identity_type",
)


def vendor_of_other_field(field: str, vendor: str) -> str | None:
    """The vendor a field belongs to when it is not valid for ``vendor`` (None if unknown)."""
    for other, fields in VENDOR_FIELDS.items():
        if other != vendor and field in fields and field not in VENDOR_FIELDS[vendor]:
            return other
    return None


class LiveDeployment(BaseModel):
    """A ``ModelDeploymentResponse`` as tolerant as the schema allows.

    Only ``id`` is needed to trust that a body is a deployment at all; every other field may be
    absent or null, and unknown fields are kept (``--strict`` may report them inside maps).
    Values stay raw (``Any``): comparison semantics live in ``normalize``, not in coercion here.
    """

    model_config = ConfigDict(extra="allow")

    id: str
    name: Any = None
    status: Any = None
    model_instance_id: Any = None
    model_endpoint_id: Any = None
    vendor_configuration: dict[str, Any] | None = None
    model_creation_parameters: Any = None
    deployment_metadata: Any = None
    created_at: Any = None
    account_id: Any = None
    created_by_user_id: Any = None
    created_by_identity_type: Any = None


class InvalidResponse(Exception):
    """A 200 body that is not the deployment that was asked for."""


def parse_live(body: Any, model_instance_id: str, deployment_id: str) -> dict[str, Any]:
    """Check that ``body`` is the requested deployment; return it as a plain dict."""
    from pydantic import ValidationError

    if not isinstance(body, dict):
        raise InvalidResponse(f"expected a JSON object, got {_json_type(body)}")
    if any(_deeper_than(body.get(name), MAX_LIVE_DEPTH - 1) for name in _COMPARED):
        # comparing and reporting recurse into these (and only these) fields: refuse here
        # rather than crash the whole run
        raise InvalidResponse(f"nested deeper than {MAX_LIVE_DEPTH} levels")
    try:
        parsed = LiveDeployment.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise InvalidResponse(f"not a deployment: {where}: {first['msg']}") from None
    if parsed.id != deployment_id:
        raise InvalidResponse(f"asked for deployment {deployment_id!r}, got {parsed.id!r}")
    live_mi = body.get("model_instance_id")
    if live_mi is not None and live_mi != model_instance_id:
        raise InvalidResponse(f"asked for model instance {model_instance_id!r}, got {live_mi!r}")
    return body


MAX_LIVE_DEPTH = 128
_COMPARED = (*SCALAR_FIELDS, *FREEFORM_FIELDS, "vendor_configuration")


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether maps and lists nest more than ``limit`` levels (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
