"""Secrets never leave the network boundary: the API key (and any other secret the run was
given) is replaced in every body and message a server sends back, before anything else sees
it, so no report, snapshot or log can hold it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so a secret that contains another is masked whole
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        # in any case: a URL's host comes back lowercased (a server that echoes the key as a
        # redirect host), and a lowercased key still gives most of it away
        alternatives = "|".join(re.escape(s) for s in self._secrets)
        self._pattern = re.compile(alternatives, re.IGNORECASE) if self._secrets else None
        # keys are ASCII (refused otherwise), so the same pattern finds them in raw bytes
        self._raw = re.compile(alternatives.encode(), re.IGNORECASE) if self._secrets else None

    def text(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def body(self, value: Any, raw: bytes) -> Any:
        """``value`` (parsed from ``raw``) with every secret masked in keys and strings.

        Walking each body would cost every deployment; only a body that holds a secret, or a
        JSON escape that could spell one, needs it.
        """
        if self._raw is None or (b"\\" not in raw and self._raw.search(raw) is None):
            return value
        return self._walk(value)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(key): self._walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._walk(item) for item in value]
        return value
