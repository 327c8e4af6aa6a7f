"""Sensitive values: the key-name rule, which differences are flagged, masking, and digests."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from driftcheck.baseline import Baseline, BaselineEntry, EntryKey, mark
from driftcheck.digests import (
    canonical_json,
    digest,
    hash_body,
    hash_declared,
    key_digest,
    parse_salt,
    snapshot_rule,
    strip_body,
)
from driftcheck.engine import judge
from driftcheck.live.records import Fetched
from driftcheck.manifest import DesiredDeployment, ManifestError, load_manifests
from driftcheck.paths import parse_pattern
from driftcheck.reporters import FORMATS, get_renderer
from driftcheck.result import (
    MASKED,
    DeploymentResult,
    Difference,
    DiffKind,
    ErrorInfo,
    ErrorKind,
    RunResult,
    SourceLocation,
    Status,
)
from driftcheck.sensitive import (
    SensitivePolicy,
    SensitiveRule,
    is_sensitive_key,
    key_words,
    mask_marks,
    mask_run,
)

SALT = bytes(range(32))
SECRET = "hunter2-correct-horse"
DM = "deployment_metadata"
OTHER = "hunter3-battery-staple"


# ---------------------------------------------------------------------------------------------
# The key-name rule


@pytest.mark.parametrize(
    "name",
    [
        "hf_token",
        "apiKey",
        "DB_PASSWORD",
        "token",
        "TOKEN",
        "github-token",
        "slack.webhook.secret",
        "clientSecret",
        "passwd",
        "user_passwd_hash",
        "apikey",
        "API_KEY",
        "x-api-key",
        "aws_access_key_id",
        "awsAccessKey",
        "private_key",
        "privateKey",
        "gcp_credentials",
        "credential",
        "myCredentialFile",
        "HFToken",
        "DBPassword",
        "getHTTPToken",
    ],
)
def test_secret_names_are_sensitive(name: str) -> None:
    assert is_sensitive_key(name)


@pytest.mark.parametrize(
    "name",
    [
        "max_tokens",
        "tokenizer",
        "max_new_tokens",
        "tokens_per_second",
        "secretary",
        "passwords_rotated_at",  # 'passwords' is not one of the words
        "api",
        "key",
        "keyApi",  # the pair reads in order
        "access",
        "public_key",
        "primary_key",
        "model_name",
        "MAXTokens",
        "OAuthTokenizer",
        "",
    ],
)
def test_other_names_are_not(name: str) -> None:
    assert not is_sensitive_key(name)


def test_words_split_at_separators_and_lower_to_upper_changes() -> None:
    assert key_words("hf_token") == ("hf", "token")
    assert key_words("apiKey") == ("api", "key")
    assert key_words("DB_PASSWORD") == ("db", "password")
    assert key_words("a.b-c__d") == ("a", "b", "c", "d")
    # an acronym ends where a capitalised word begins; an all-capitals run stays one word
    assert key_words("APIKey") == ("api", "key")
    assert key_words("getHTTPToken") == ("get", "http", "token")
    assert key_words("HFToken") == ("hf", "token")
    assert key_words("HFTOKEN") == ("hftoken",)
    assert key_words("MAXTokens") == ("max", "tokens")


# ---------------------------------------------------------------------------------------------
# Which paths and differences are sensitive


def test_rule_covers_free_form_names_at_any_depth_patterns_and_exact_paths() -> None:
    rule = SensitiveRule(
        patterns=(parse_pattern("deployment_metadata.*.pw"),),
        paths=frozenset({("model_creation_parameters", "from_env")}),
    )
    assert rule.covers(("deployment_metadata", "hf_token"))
    assert rule.covers(("model_creation_parameters", "a", 0, "apiKey", "x"))
    assert rule.covers(("deployment_metadata", "db", "pw"))
    assert rule.covers(("model_creation_parameters", "from_env"))
    assert rule.covers(("model_creation_parameters", "from_env", "inner"))
    assert not rule.covers(("deployment_metadata", "max_tokens"))
    assert not rule.covers(("deployment_metadata", "db", "user"))
    # the name rule is for free-form maps; a snapshot applies it to the whole body
    assert not rule.covers(("vendor_configuration", "token"))
    assert replace(rule, names_anywhere=True).covers(("vendor_configuration", "token"))


def test_a_value_that_contains_a_sensitive_key_is_sensitive_as_a_whole() -> None:
    rule = SensitiveRule()
    hooks = [{"url": "https://x", "secret": SECRET}]
    assert rule.touches(("deployment_metadata", "hooks"), hooks)
    assert not rule.touches(("deployment_metadata", "hooks"), [{"url": "https://x"}])


def desired(tmp_path: Path, body: str, top: str = "") -> DesiredDeployment:
    text = (
        f"version: 1\n{top}deployments:\n  - model_instance_id: mi\n    deployment_id: dep\n"
        + "".join(f"    {line}\n" for line in body.splitlines())
    )
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    (deployment,) = load_manifests([str(path)]).deployments
    return deployment


def live(**fields: Any) -> dict[str, Any]:
    return {"id": "dep", "model_instance_id": "mi", **fields}


def test_compare_flags_every_source_and_keeps_the_real_values(tmp_path: Path) -> None:
    deployment = desired(
        tmp_path,
        "sensitive: [deployment_metadata.own]\n"
        "deployment_metadata:\n"
        f"  hf_token: {SECRET}\n  own: {SECRET}\n  top: {SECRET}\n  cli: {SECRET}\n"
        f"  plain: {SECRET}\n",
        top="sensitive: [deployment_metadata.top]\n",
    )
    body = live(
        deployment_metadata=dict.fromkeys(("hf_token", "own", "top", "cli", "plain"), OTHER)
    )
    policy = SensitivePolicy((parse_pattern("*.cli"),))
    found = judge(deployment, Fetched(body), sensitive=policy).differences
    assert [(d.path, d.sensitive, d.desired, d.live) for d in found] == [
        ("deployment_metadata.cli", True, SECRET, OTHER),
        ("deployment_metadata.hf_token", True, SECRET, OTHER),
        ("deployment_metadata.own", True, SECRET, OTHER),
        ("deployment_metadata.plain", False, SECRET, OTHER),
        ("deployment_metadata.top", True, SECRET, OTHER),
    ]


def test_judging_without_a_run_policy_still_uses_the_deployments_own(tmp_path: Path) -> None:
    deployment = desired(
        tmp_path, "sensitive: [deployment_metadata.a]\ndeployment_metadata: {apiKey: x, a: y}"
    )
    body = live(deployment_metadata={"apiKey": OTHER, "a": OTHER})
    assert [d.sensitive for d in judge(deployment, Fetched(body)).differences] == [True, True]


def test_env_values_are_masked_through_sensitive_paths(tmp_path: Path) -> None:
    """The seam for ${env:NAME}: the loader adds the value's path, nothing else is needed."""
    deployment = desired(tmp_path, f"model_creation_parameters: {{endpoint: {SECRET}}}")
    deployment = replace(
        deployment, sensitive_paths=frozenset({("model_creation_parameters", "endpoint")})
    )
    body = live(model_creation_parameters={"endpoint": OTHER})
    (diff,) = judge(deployment, Fetched(body)).differences
    assert diff.sensitive


def test_manifest_sensitive_patterns_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nsensitive: [a..b, 3]\ndeployments:\n"
        "  - {model_instance_id: mi, deployment_id: dep, sensitive: 'x'}\n",
        encoding="utf-8",
    )
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(path)])
    messages = [str(p).split(":", 1)[1] for p in caught.value.problems]
    assert messages == [
        "2:13: invalid sensitive pattern 'a..b': empty segment (two dots in a row, or a "
        "leading/trailing dot)",
        "2:19: sensitive[1]: expected a sensitive pattern (a string), got the number 3",
        "4:49: deployments[0].sensitive: expected a list of path patterns (strings), got the "
        "string 'x'",
    ]


# ---------------------------------------------------------------------------------------------
# Masking the result


def run_result(*differences: Difference, error: ErrorInfo | None = None) -> RunResult:
    now = dt.datetime(2026, 11, 27, 4, 0, tzinfo=dt.timezone.utc)
    deployment = DeploymentResult(
        "mi",
        "dep",
        "name",
        SourceLocation("m.yaml", 3),
        Status.ERROR if error else Status.DRIFTED,
        differences=differences,
        error=error,
    )
    return RunResult(deployments=(deployment,), started_at=now, finished_at=now)


def test_masking_replaces_values_and_keeps_path_kind_line() -> None:
    result = run_result(
        Difference(
            "deployment_metadata.hf_token", DiffKind.CHANGED, SECRET, OTHER, 7, sensitive=True
        ),
        Difference(
            "deployment_metadata.a_token", DiffKind.MISSING_LIVE, SECRET, None, 8, sensitive=True
        ),
        Difference(
            "deployment_metadata.b_token", DiffKind.EXTRA_LIVE, None, OTHER, 3, sensitive=True
        ),
        Difference(f"{DM}.owner", DiffKind.CHANGED, "a", "b", 9),
    )
    masked = mask_run(result).deployments[0].differences
    assert [(d.path, d.kind, d.desired, d.live, d.line) for d in masked] == [
        ("deployment_metadata.hf_token", DiffKind.CHANGED, MASKED, MASKED, 7),
        ("deployment_metadata.a_token", DiffKind.MISSING_LIVE, MASKED, None, 8),
        ("deployment_metadata.b_token", DiffKind.EXTRA_LIVE, None, MASKED, 3),
        ("deployment_metadata.owner", DiffKind.CHANGED, "a", "b", 9),
    ]
    assert mask_run(result).exit_code == result.exit_code == 2


def test_every_reporter_shows_the_mask_and_never_the_value() -> None:
    result = mask_run(
        run_result(
            Difference(
                "deployment_metadata.hf_token", DiffKind.CHANGED, SECRET, OTHER, 7, sensitive=True
            )
        )
    )
    for fmt in FORMATS:  # the registry: a format added later is checked too
        text = get_renderer(fmt)(result)
        assert SECRET not in text and OTHER not in text, fmt
    for fmt in ("text", "json", "junit", "markdown", "github", "patch"):
        assert "deployment_metadata.hf_token" in get_renderer(fmt)(result), fmt
    report = json.loads(get_renderer("json")(result))
    (diff,) = report["deployments"][0]["differences"]
    assert diff["desired"] == diff["live"] == {"sensitive": True}
    assert "~ deployment_metadata.hf_token: (sensitive) -> (sensitive)" in get_renderer("text")(
        result
    )
    assert "| `(sensitive)` | `(sensitive)` |" in get_renderer("markdown")(result)


def test_declared_secrets_are_scrubbed_from_error_messages(tmp_path: Path) -> None:
    deployment = desired(tmp_path, f"deployment_metadata: {{db_password: {SECRET}}}")
    error = ErrorInfo(ErrorKind.HTTP, f"HTTP 422: bad value {SECRET!r}", http_status=422)
    masked = mask_run(run_result(error=error), [deployment])
    assert masked.deployments[0].error == replace(
        error, message="HTTP 422: bad value '(sensitive)'"
    )


def test_resolved_entries_of_an_old_baseline_are_masked() -> None:
    key = EntryKey.difference("mi", "dep", "deployment_metadata.hf_token", "changed")
    baseline = Baseline(
        "base.json", "2026-11-26T04:00:00Z", {key: BaselineEntry(key, "x", None, SECRET, OTHER)}
    )
    marks = mask_marks(mark(run_result().deployments, None, baseline, "now"), SensitivePolicy())
    assert [(e.desired, e.live) for e in marks.resolved] == [(MASKED, MASKED)]


# ---------------------------------------------------------------------------------------------
# Digests


def reference_digest(value: Any, salt: bytes) -> str:
    """DESIGN's recipe, written out independently of the implementation."""
    message = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(salt, message.encode("utf-8"), hashlib.sha256).hexdigest()


def test_digest_is_hmac_sha256_of_canonical_json() -> None:
    assert digest("hé", SALT) == {"sha256": reference_digest("hé", SALT)}
    assert canonical_json({"b": 2.0, "a": [1.5, "ü"]}) == '{"a":[1.5,"ü"],"b":2}'
    assert digest(4.0, SALT) == digest(4, SALT)
    assert digest(SECRET, SALT) != digest(SECRET, bytes(32))


def test_salt_must_be_64_hex_digits() -> None:
    assert parse_salt(None) is None
    assert parse_salt(SALT.hex()) == SALT
    for bad in ("abc", SALT.hex().upper(), 5, "zz" * 32):
        with pytest.raises(ValueError, match="64 lowercase hex digits"):
            parse_salt(bad)


def test_snapshot_bodies_hash_sensitive_leaves_and_keep_everything_else() -> None:
    rule = snapshot_rule(None, SensitivePolicy((parse_pattern("deployment_metadata.conn"),)))
    body = live(
        name="n",
        api_token="top-level",
        deployment_metadata={
            "hf_token": SECRET,
            "conn": {"user": "bob", "port": 5432},
            "hooks": [{"url": "u", "secret": OTHER}],
            "empty_token": None,
            "owner": "team",
        },
    )
    hashed = hash_body(body, rule, SALT)
    assert hashed["id"] == "dep" and hashed["model_instance_id"] == "mi"
    assert hashed["api_token"] == digest("top-level", SALT)
    assert hashed["deployment_metadata"] == {
        "hf_token": digest(SECRET, SALT),
        "conn": {
            key_digest("user", SALT): digest("bob", SALT),
            key_digest("port", SALT): digest(5432, SALT),
        },
        "hooks": [{"url": "u", "secret": digest(OTHER, SALT)}],
        "empty_token": None,
        "owner": "team",
    }


def test_declared_values_are_hashed_where_the_snapshot_holds_digests(tmp_path: Path) -> None:
    deployment = desired(
        tmp_path, f"deployment_metadata: {{hf_token: {SECRET}, hooks: [{{secret: {OTHER}}}]}}"
    )
    recorded = hash_body(
        live(deployment_metadata={"hf_token": SECRET, "hooks": [{"secret": "changed"}]}),
        snapshot_rule(deployment, SensitivePolicy()),
        SALT,
    )
    compared, body, paths = hash_declared(deployment, recorded, SALT)
    assert paths == {
        ("deployment_metadata", "hf_token"),
        ("deployment_metadata", "hooks", 0, "secret"),
    }
    assert (
        compared.fields["deployment_metadata"]["hf_token"]
        == body["deployment_metadata"]["hf_token"]
    )
    assert deployment.fields["deployment_metadata"]["hf_token"] == SECRET  # not changed in place
    (diff,) = judge(deployment, Fetched(recorded), sensitive=SensitivePolicy(salt=SALT)).differences
    assert (diff.path, diff.sensitive) == ("deployment_metadata.hooks", True)
    assert diff.desired == [{"secret": OTHER}]  # the declared value, for --show-sensitive


def test_a_defaulted_vendor_field_hashes_its_default(tmp_path: Path) -> None:
    deployment = desired(tmp_path, "vendor_configuration: {vendor: LAUNCH}")
    rule = snapshot_rule(
        deployment, SensitivePolicy((parse_pattern("vendor_configuration.max_workers"),))
    )
    for workers, expected in ((1, ()), (3, ("vendor_configuration.max_workers",))):
        recorded = hash_body(
            live(vendor_configuration={"vendor": "LAUNCH", "max_workers": workers}), rule, SALT
        )
        policy = SensitivePolicy(rule.patterns, SALT)
        found = judge(deployment, Fetched(recorded), sensitive=policy).differences
        assert tuple((d.path, d.sensitive) for d in found) == tuple((p, True) for p in expected)


def test_as_manifest_bodies_leave_sensitive_values_out() -> None:
    body = live(
        deployment_metadata={"hf_token": SECRET, "hooks": [{"secret": OTHER}], "owner": "team"}
    )
    stripped, removed = strip_body(body, snapshot_rule(None, SensitivePolicy()))
    assert stripped == live(deployment_metadata={"owner": "team"})
    assert removed == [("deployment_metadata", "hf_token"), ("deployment_metadata", "hooks")]


def test_a_quoted_pattern_segment_names_a_key_with_a_dot(tmp_path: Path) -> None:
    deployment = desired(
        tmp_path,
        "sensitive: ['deployment_metadata.\"db.url\"']\n"
        f'deployment_metadata: {{"db.url": {SECRET}, "db": {{url: plain}}}}',
    )
    body = live(deployment_metadata={"db.url": OTHER, "db": {"url": "other"}})
    found = judge(deployment, Fetched(body)).differences
    # both spell "deployment_metadata.db.url"; only the key with the dot is sensitive
    assert {d.segments: d.sensitive for d in found} == {
        ("deployment_metadata", "db", "url"): False,
        ("deployment_metadata", "db.url"): True,
    }
