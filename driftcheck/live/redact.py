"""Secrets never leave the network boundary: the API key (and any other secret the run was
given) is replaced in every body and message a server sends back, before anything else sees
it, so no report, snapshot or log can hold it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MASK = "***"


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so a secret that contains another is masked whole
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._encoded = [s.encode() for s in self._secrets]

    def text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def body(self, value: Any, raw: bytes) -> Any:
        """``value`` (parsed from ``raw``) with every secret masked in keys and strings.

        Walking each body would cost every deployment; only a body that holds a secret, or a
        JSON escape that could spell one, needs it.
        """
        if not self._secrets or (
            b"\\" not in raw and not any(secret in raw for secret in self._encoded)
        ):
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
