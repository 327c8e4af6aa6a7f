"""The manifest's pydantic models: the edge where untrusted YAML becomes typed data.

The vendor models are generated from ``spec.VENDOR_FIELDS``, so a field added to the spec's
table is accepted, documented in ``driftcheck schema`` and explained in messages at once.
``KINDS`` holds each field kind's rule (its type and how a message names it) in one place.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    create_model,
)

from driftcheck import spec
from driftcheck.manifest.schema import with_environments
from driftcheck.paths import PATTERN_REGEX

MANIFEST_VERSION = 1
UNMANAGED_IGNORE = "unmanaged-ignore"


def _whole(value: int | float) -> int | float:
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("not a whole number")
    return value


# JSON Schema counts 4.0 as an integer, and DESIGN compares numbers by value, so 4.0 is allowed.
WholeNumber = Annotated[StrictInt | StrictFloat, AfterValidator(_whole)]


def _finite(value: str | int | float) -> str | int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


Quantity = Annotated[
    StrictStr | StrictInt | StrictFloat,
    AfterValidator(_finite),
    Field(description="Kubernetes quantity such as 8Gi, 8192Mi or 8589934592"),
]
NonEmpty = Annotated[StrictStr, Field(min_length=1)]


class Kind:
    """How a vendor field kind of ``spec`` is validated and how messages name it."""

    def __init__(self, annotation: Any, expected: str) -> None:
        self.annotation = annotation
        self.expected = expected
        self._adapter: TypeAdapter[Any] = TypeAdapter(annotation)

    def why_not(self, value: Any) -> str | None:
        """Why ``value`` is not of this kind ("not a finite number"); None when it is."""
        try:
            self._adapter.validate_python(value, strict=True)
        except ValidationError as exc:
            # a validator's own reason is more precise than the kind's name
            reasons = [e["ctx"]["error"] for e in exc.errors() if e["type"] == "value_error"]
            return str(reasons[0]) if reasons else f"not {self.expected}"
        return None


KINDS: dict[str, Kind] = {
    "int": Kind(WholeNumber, "a whole number"),
    "quantity": Kind(Quantity, "a quantity such as '8Gi' (a string) or a number"),
    "bool": Kind(StrictBool, "true or false"),
    "gpu_type": Kind(spec.GpuType, "one of " + ", ".join(spec.GPU_TYPES)),
    "str": Kind(StrictStr, "a string"),
}


def optional(description: str, alias: str | None = None) -> Any:
    """An optional key whose explicit ``null`` is still an error: the default is never
    validated, but a declared ``null`` is checked against the (non-null) type."""
    return Field(default=None, description=description, alias=alias)


def describe_default(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# The schema's definition names, kept stable for editors that cache them.
_MODEL_NAMES = {
    spec.LAUNCH: "LaunchVendorConfiguration",
    spec.LLMENGINE: "LLMEngineVendorConfiguration",
}


def _vendor_model(vendor: str) -> type[BaseModel]:
    fields: dict[str, Any] = {"vendor": (Literal.__getitem__(vendor), ...)}
    for name, field in spec.VENDOR_FIELDS[vendor].items():
        described = (
            f"default {describe_default(field.default)}"
            if field.has_default
            else "compared only when declared"
        )
        fields[name] = (KINDS[field.kind].annotation, optional(described))
    model: type[BaseModel] = create_model(
        _MODEL_NAMES.get(vendor, f"{vendor.title()}VendorConfiguration"),
        __base__=_Strict,
        **fields,
    )
    return model


VENDOR_MODELS: dict[str, type[BaseModel]] = {v: _vendor_model(v) for v in spec.VENDOR_FIELDS}

if TYPE_CHECKING:
    VendorConfiguration = Any
else:
    VendorConfiguration = Annotated[
        Union[tuple(VENDOR_MODELS.values())],  # noqa: UP007 - built at run time from the table
        Field(discriminator="vendor"),
    ]


# The pattern grammar is checked by parse_pattern (one message per bad pattern); the regex
# is for editors only, so that the schema never accepts what `validate` rejects.
PatternText = Annotated[StrictStr, Field(json_schema_extra={"pattern": PATTERN_REGEX})]


class IgnoreEntry(_Strict):
    """An accountable ignore; rule_from_entry (driftcheck.ignore) checks it and words the
    messages, this model describes it for `driftcheck schema`."""

    path: PatternText
    reason: NonEmpty = optional("why this path may differ")
    owner: NonEmpty = optional("who answers for it")
    until: Annotated[StrictStr, Field(json_schema_extra={"format": "date"})] = optional(
        "YYYY-MM-DD: silences through this UTC day, then nothing"
    )


Ignores = list[PatternText | IgnoreEntry]


class DeploymentModel(_Strict):
    model_instance_id: NonEmpty
    deployment_id: NonEmpty
    name: StrictStr = optional("compared when given")
    vendor_configuration: VendorConfiguration = optional(
        "a mapping with vendor: LAUNCH or vendor: LLMENGINE"
    )
    model_endpoint_id: StrictStr = optional("compared when given")
    status: StrictStr = optional("expected live status, e.g. READY")
    model_creation_parameters: dict[StrictStr, Any] = optional(
        "free-form map: declared keys are compared"
    )
    deployment_metadata: dict[StrictStr, Any] = optional(
        "free-form map: declared keys are compared"
    )
    ignore: Ignores = optional("path patterns never reported for this deployment")
    sensitive: list[PatternText] = optional("path patterns whose values are never shown")


def _not_bool(value: Any) -> Any:
    # Literal[1] alone accepts `true` (True == 1); YAML and JSON Schema keep them apart.
    if isinstance(value, bool):
        raise ValueError("a boolean is not a version")
    return value


class ManifestModel(_Strict):
    version: Annotated[Literal[1], BeforeValidator(_not_bool)]
    ignore: Ignores = optional("path patterns never reported, for every deployment")
    sensitive: list[PatternText] = optional(
        "path patterns whose values are never shown, for this file's deployments"
    )
    deployments: list[DeploymentModel]
    unmanaged_ignore: list[NonEmpty] = optional(
        "with --unmanaged: live deployments never reported as unmanaged "
        "(fnmatch patterns on name, id or model_instance_id/id)",
        alias=UNMANAGED_IGNORE,
    )


DEPLOYMENT_KEYS = tuple(DeploymentModel.model_fields)
TOP_KEYS = tuple(f.alias or n for n, f in ManifestModel.model_fields.items())


def json_schema() -> dict[str, Any]:
    schema = with_environments(ManifestModel.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "driftcheck manifest v1"
    return schema
