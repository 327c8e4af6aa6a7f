"""Report formats: one module per format, each exposing ``render(result) -> str``.

The format modules are imported only when asked for, so that ``driftcheck --help`` and a
plain text run do not pay for the XML or Markdown machinery.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

FORMATS: tuple[str, ...] = (
    "text",
    "json",
    "junit",
    "markdown",
    "github",
    "patch",
    "sarif",
    "html",
    "prometheus",
)


def get_renderer(name: str) -> Callable[..., str]:
    """Return ``render(result, *, color=False, verbose=False) -> str`` of format *name*."""
    if name not in FORMATS:
        raise ValueError(f"unknown report format {name!r}; choose from {', '.join(FORMATS)}")
    module = importlib.import_module(f"{__name__}.{name}")
    render: Callable[..., str] = module.render
    return render
