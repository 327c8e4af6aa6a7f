"""Prometheus text exposition format 0.0.4, for node_exporter's textfile collector.

``--report prometheus=/var/lib/node_exporter/textfile/driftcheck.prom`` after each nightly run
lets Prometheus alert on drift the same way it alerts on anything else. Every sample carries
no timestamp (the textfile collector refuses them); labels come from the manifest, escaped as
the format requires.

A deployment whose check failed (``error``) gets no ``driftcheck_deployment_drifted`` or
``driftcheck_differences`` sample: "unknown" must not read as "0 differences" to an alert
rule. ``driftcheck_deployment_status`` says what happened to it instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from driftcheck.result import EXIT_ERROR, DeploymentResult, RunResult, Status


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    summary = result.summary
    counts = {
        Status.IN_SYNC.value: summary.in_sync,
        Status.DRIFTED.value: summary.drifted,
        Status.MISSING.value: summary.missing,
        Status.ERROR.value: summary.error,
    }
    if summary.unmanaged is not None:
        counts["unmanaged"] = summary.unmanaged
    checked = [d for d in result.deployments if d.status is not Status.ERROR]
    lines: list[str] = []
    lines += _family(
        "driftcheck_deployments",
        "Declared deployments by status in the last run (unmanaged: live, not declared).",
        ((f'{{status="{status}"}}', count) for status, count in counts.items()),
    )
    lines += _family(
        "driftcheck_deployment_drifted",
        "1 when the deployment differs from its declaration (drifted or missing), else 0; "
        "absent when it could not be checked.",
        ((_labels(d), int(d.status in (Status.DRIFTED, Status.MISSING))) for d in checked),
    )
    lines += _family(
        "driftcheck_differences",
        "Number of differences reported for the deployment; absent when it could not be checked.",
        ((_labels(d), len(d.differences)) for d in checked),
    )
    lines += _family(
        "driftcheck_deployment_status",
        "1 for the deployment's status in the last run (in_sync, drifted, missing, error).",
        ((_labels(d, status=d.status.value), 1) for d in result.deployments),
    )
    lines += _family(
        "driftcheck_last_run_timestamp_seconds",
        "When the last run finished, in seconds since the Unix epoch.",
        [("", _number(result.finished_at.timestamp()))],
    )
    lines += _family(
        "driftcheck_run_duration_seconds",
        "How long the last run took.",
        [("", _number((result.finished_at - result.started_at).total_seconds()))],
    )
    lines += _family(
        "driftcheck_run_success",
        "1 when the last run checked every deployment (no error), else 0; drift is not "
        "a failure of the run.",
        [("", int(result.exit_code != EXIT_ERROR))],
    )
    return "\n".join(lines) + "\n"


def _family(name: str, help_text: str, samples: Iterable[tuple[str, int | str]]) -> list[str]:
    lines = [f"# HELP {name} {_escape_help(help_text)}", f"# TYPE {name} gauge"]
    lines.extend(f"{name}{labels} {value}" for labels, value in samples)
    return lines


def _labels(d: DeploymentResult, **extra: str) -> str:
    environment = getattr(d, "environment", None)  # environments (#12): "" without them
    values = {
        "model_instance_id": d.model_instance_id,
        "deployment_id": d.deployment_id,
        "name": d.name or "",
        "environment": environment or "",
        **extra,
    }
    return "{" + ",".join(f'{key}="{_escape_label(value)}"' for key, value in values.items()) + "}"


def _escape_label(value: str) -> str:
    """Label values escape backslash, double quote and line feed (format 0.0.4)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    """Whole seconds print as integers; fractions keep millisecond precision."""
    return str(int(value)) if value == int(value) else f"{value:.3f}"
