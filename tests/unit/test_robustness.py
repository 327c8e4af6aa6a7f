"""Schema-driven robustness: any response the seed OpenAPI schema allows gets a verdict and a
report, never a traceback. The generator reads the schema itself (tests/data/), so a field
added to the spec is exercised without touching this file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftcheck.engine import judge
from driftcheck.live.records import Fetched
from driftcheck.manifest import DesiredDeployment, load_manifests
from driftcheck.reporters import FORMATS, get_renderer
from driftcheck.result import RunResult, Status

SPEC = yaml.safe_load(
    (Path(__file__).parent.parent / "data" / "sgp-get-deployment.openapi.yaml").read_text()
)
COMPONENTS: dict[str, Any] = SPEC["components"]["schemas"]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        return from_schema(COMPONENTS[schema["$ref"].rsplit("/", 1)[1]])
    if "oneOf" in schema:
        return st.one_of([from_schema(s) for s in schema["oneOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        fixed = {k: from_schema(v) for k, v in properties.items() if k in required}
        optional = {k: from_schema(v) for k, v in properties.items() if k not in required}
        known = st.fixed_dictionaries(fixed, optional=optional)
        if schema.get("additionalProperties", True) is False:
            return known
        # additional properties are allowed: unknown keys must be tolerated too
        extra = st.dictionaries(
            st.text(min_size=1, max_size=6).map(lambda k: "x_" + k), json_values, max_size=2
        )
        return st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.datetimes().map(lambda d: d.isoformat())
        return st.text(max_size=12)
    if kind == "integer":
        return st.integers()
    if kind == "boolean":
        return st.booleans()
    return json_values


deployment_bodies = from_schema({"$ref": "#/components/schemas/ModelDeploymentResponse"})

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi
    deployment_id: dep
    name: n
    status: READY
    model_endpoint_id: ep
    vendor_configuration:
      vendor: LLMENGINE
      memory: 8Gi
      gpu_type: nvidia-tesla-t4
      model_name: m
    model_creation_parameters: {a: {b: 1}, c: [1, 2]}
    deployment_metadata: {team: x}
  - model_instance_id: mi
    deployment_id: dep2
    vendor_configuration: {vendor: LAUNCH, max_workers: 2}
  - model_instance_id: mi
    deployment_id: dep3
"""


def desired(tmp: Path) -> tuple[DesiredDeployment, ...]:
    path = tmp / "m.yaml"
    path.write_text(MANIFEST)
    return load_manifests([str(path)]).deployments


@settings(max_examples=20)
@given(body=deployment_bodies)
def test_generator_produces_schema_shaped_bodies(body: dict[str, Any]) -> None:
    assert set(COMPONENTS["ModelDeploymentResponse"]["required"]) <= body.keys()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=deployment_bodies, match=st.booleans(), strict=st.booleans())
def test_every_schema_valid_response_gets_a_verdict_and_reports(
    tmp_path: Path, body: dict[str, Any], match: bool, strict: bool
) -> None:
    import datetime as dt

    results = []
    for deployment in desired(tmp_path):
        live = dict(body)
        if match:
            live["id"] = deployment.deployment_id
            live["model_instance_id"] = deployment.model_instance_id
        outcome = judge(deployment, Fetched(live), strict=strict)
        assert outcome.status in set(Status)
        if not match and live["id"] != deployment.deployment_id:
            assert outcome.status is Status.ERROR
        if outcome.status is Status.ERROR:
            assert outcome.error is not None
        results.append(outcome)
    now = dt.datetime(2026, 11, 27, tzinfo=dt.timezone.utc)
    run = RunResult(tuple(results), now, now)
    assert run.exit_code in (0, 1, 2)
    for fmt in FORMATS:
        text = get_renderer(fmt)(run)
        assert isinstance(text, str) and text
    json.loads(get_renderer("json")(run))
