"""``--env`` and ``--var``: the command line's side of environments (click only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

if TYPE_CHECKING:  # the manifest package (pydantic models, YAML) is ~90 ms of imports that
    # `driftcheck --version`, `--help` and `completion` do not need: imported when used
    from driftcheck.manifest import Selection

F = TypeVar("F", bound=Callable[..., Any])
ENVVAR = "DRIFTCHECK_ENV"


def env_options(func: F) -> F:
    func = click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="NAME=VALUE",
        help="Set ${var.NAME} (repeatable; VALUE is read as YAML: 9 is a number).",
    )(func)
    func = click.option(
        "--env",
        "environments",
        multiple=True,
        envvar=ENVVAR,
        metavar="NAME",
        help="Environment of the manifest set (repeatable; 'all' for every one; "
        "env DRIFTCHECK_ENV).",
    )(func)
    return func


def selection(
    kwargs: dict[str, Any],
    environ: Mapping[str, str],
    *,
    every: bool = False,
    sensitive: tuple[str, ...] = (),
) -> Selection:
    """Take ``--env``/``--var`` out of a command's keyword arguments."""
    from driftcheck.manifest import Selection

    environments = tuple(kwargs.pop("environments"))
    context = click.get_current_context(silent=True)
    source = context.get_parameter_source("environments") if context else None
    # a name set in the CI's environment must be named as such, or the user looks for a flag
    option = ENVVAR if source is ParameterSource.ENVIRONMENT else "--env"
    return Selection(
        environments=environments,
        variables=parse_vars(kwargs.pop("variables")),
        process_env=dict(environ),
        option=option,
        sensitive=sensitive,
    )


def parse_vars(values: tuple[str, ...]) -> dict[str, Any]:
    from driftcheck.manifest.interpolate import VAR_NAME
    from driftcheck.manifest.scalars import core_scalar

    parsed: dict[str, Any] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep:
            raise click.BadParameter(
                f"{value!r}: expected NAME=VALUE, e.g. workers=4", param_hint="'--var'"
            )
        if not VAR_NAME.match(name):
            raise click.BadParameter(
                f"{value!r}: a variable name matches [A-Za-z_][A-Za-z0-9_-]*",
                param_hint="'--var'",
            )
        if name in parsed:
            raise click.BadParameter(f"{name} is given twice", param_hint="'--var'")
        parsed[name] = core_scalar(text)
    return parsed
