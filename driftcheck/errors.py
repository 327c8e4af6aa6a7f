"""One error shape for every layer: :class:`DriftcheckError`, optionally carrying Problems.

Each layer raises its own subclass where the problem is found (``ManifestError``,
``IgnoreFileError``, ``BaselineError``, ``SourceError`` ...); the command line catches only
``DriftcheckError``, in one place, prints :meth:`DriftcheckError.lines` and exits with
:attr:`DriftcheckError.exit_code`. Nothing here imports the rest of driftcheck.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# A problem with the input is never drift: it exits 1 like every error (DESIGN "exit codes").
EXIT_ERROR = 1


@dataclass(frozen=True)
class Problem:
    """One finding in a user's file, printed ``file:line:column: message``."""

    file: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class DriftcheckError(Exception):
    """Something the user must fix; the run stops with :attr:`exit_code` and no traceback.

    ``problems`` are printed one per line before the ``message``.
    """

    exit_code: int = EXIT_ERROR
    # How the closing line starts; a manifest error reads "driftcheck: 2 manifest problems".
    headline_prefix: str = "driftcheck: error: "

    def __init__(self, message: str, problems: Sequence[Problem | str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details: tuple[Problem | str, ...] = tuple(problems)

    def lines(self) -> list[str]:
        return [str(p) for p in self.details] + [f"{self.headline_prefix}{self.message}"]
