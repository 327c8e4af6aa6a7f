"""``run_snapshot``: record the live state of the declared deployments (snapshot v1), or with
``--as-manifest`` a manifest that checks in sync against it. Shares the key, loading and
file-safety helpers of ``app.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field

import click

from driftcheck.app import DEFAULT_PATH, ApiKey, api_source, fail, load_desired, refuse_overwriting
from driftcheck.digests import new_salt, protect_outcomes
from driftcheck.live.records import Failed, Fetched, ListScope, Outcome, Progress
from driftcheck.live.settings import HttpSettings
from driftcheck.manifest import DesiredState, Selection, SelectionError
from driftcheck.output import write_atomically, write_stdout
from driftcheck.paths import PathPattern
from driftcheck.result import EXIT_ERROR, format_timestamp
from driftcheck.sensitive import SensitivePolicy, declared_secrets, scrub


@dataclass(frozen=True)
class SnapshotOptions:
    paths: tuple[str, ...]
    output: str  # "-" for stdout
    record_all: bool
    scope: ListScope | None
    as_manifest: bool
    http: HttpSettings
    api_key: ApiKey
    progress: Progress | None = None
    allow_partial: bool = False  # write the file even when deployments could not be recorded
    sensitive: tuple[PathPattern, ...] = ()  # --sensitive
    selection: Selection = field(default_factory=Selection)


def run_snapshot(options: SnapshotOptions) -> int:
    from driftcheck.envrun import ENVIRONMENT_KEY, http_for, single_environment
    from driftcheck.live.snapshot import snapshot_document

    scope = options.scope
    environment = None
    if options.record_all and not options.paths and not os.path.exists(DEFAULT_PATH):
        if options.selection.environments:  # never silently a snapshot of no environment
            raise SelectionError(
                f"--env {options.selection.environments[0]}: no manifests here define "
                "environments (give the manifest PATH)"
            )
        desired = DesiredState(())
    else:
        loaded = load_desired(options.paths, options.selection)
        environment = single_environment(loaded, "snapshot")
        desired = loaded.states[0].desired
    if options.output != "-":
        inputs = [*desired.files, *([options.api_key.file] if options.api_key.file else [])]
        refuse_overwriting(f"--output {options.output}", options.output, inputs)
    source = api_source(http_for(options.http, environment), options.api_key)
    keys = [d.key for d in desired.deployments]
    captured = format_timestamp(dt.datetime.now(dt.timezone.utc))
    collected = source.collect(keys, mode="get", scope=scope, progress=options.progress)
    outcomes: list[Outcome] = list(collected.outcomes)
    complete = False
    listing = collected.listing
    if listing is not None and scope is not None:
        if listing.error is not None:
            fail(f"could not list live deployments: {listing.error.message}")
        else:
            complete = scope.model_instance_ids is None
            declared = set(keys)
            for item in listing.items:
                key = (str(item.get("model_instance_id") or ""), item["id"])
                if key not in declared:
                    keys.append(key)
                    outcomes.append(Fetched(item))
    policy = SensitivePolicy(options.sensitive)
    if options.as_manifest:
        from driftcheck.bootstrap import manifest_from_outcomes

        written, left_out = protect_outcomes(desired.deployments, policy, keys, outcomes, None)
        declared_here = keys[: len(desired.deployments)] if environment else []
        text = manifest_from_outcomes(
            keys,
            written,
            source=source.description,
            captured_at=captured,
            environment=environment.name if environment else None,
            # into an environment of an existing set: what the set declares there already
            # would be a duplicate
            skip=[(mi, dep, "already declared in the set") for mi, dep in declared_here],
        )
        text += left_out
    else:
        salt = new_salt()
        written, _ = protect_outcomes(desired.deployments, policy, keys, outcomes, salt)
        document = snapshot_document(source.description, keys, written, captured)
        document["sensitive_salt"] = salt.hex()  # additive: sensitive values are HMACs
        if complete:
            document["all"] = True  # additive: --live-from can then look for unmanaged ones
        if environment is not None:
            document[ENVIRONMENT_KEY] = environment.name  # additive: --live-from checks it
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    failures = [(k, o) for k, o in zip(keys, outcomes, strict=True) if isinstance(o, Failed)]
    listing_failed = listing is not None and listing.error is not None
    secrets = declared_secrets(desired.deployments, policy) if failures else []
    for (mi, dep), outcome in failures:  # a server may echo what it was sent
        fail(f"{mi}/{dep} not recorded: {scrub(outcome.error.message, secrets)}")
    recorded = len(keys) - len(failures)
    output = options.output
    # A snapshot that lacks deployments would read back as errors at best; the previous
    # file is often the last good record, so only --allow-partial may replace it.
    # The same holds for standard output: a pipeline must not take a partial snapshot for a
    # whole one (the exit code alone is easy to lose after a pipe).
    if (failures or listing_failed) and not options.allow_partial:
        if output == "-":
            kept = "did not write the snapshot to standard output"
        else:
            kept = f"{'kept the previous' if os.path.exists(output) else 'did not write'} {output}"
        missing = f"{len(failures)} of {len(keys)} deployments" if failures else "the listing"
        return fail(
            f"{kept}: {missing} could not be recorded (--allow-partial writes what was recorded)"
        )
    if output == "-":
        write_stdout(text)
    else:
        try:
            write_atomically(output, text)
        except OSError as exc:
            return fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"driftcheck: recorded {recorded} of {len(keys)} deployments in {output}", err=True)
    return EXIT_ERROR if failures or listing_failed else 0
