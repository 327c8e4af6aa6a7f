"""The user's documentation stays inside the repository and its links keep working: every
relative link in README.md, docs/ and benchmarks/README.md names a file of the repository (and,
with ``#anchor``, a heading of it); the README keeps its two set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", ROOT / "benchmarks" / "README.md", *ROOT.glob("docs/*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _links(page: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8")))


def _anchors(page: Path) -> set[str]:
    """GitHub's heading ids (lower case, punctuation dropped, spaces to '-'), and <a id>."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    anchors = set(re.findall(r'<a id="([^"]+)">', text))
    for heading in re.findall(r"^#+\s+(.*)$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_there_are_pages_to_check() -> None:
    assert {p.name for p in PAGES} >= {"README.md", "manifest.md", "reports.md", "cli.md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_name_files_of_the_repository(page: Path) -> None:
    for target in _links(page):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.is_relative_to(ROOT), f"{page.name}: {target} leaves the repository"
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in _anchors(resolved), f"{page.name}: no heading #{anchor} in {path}"


def test_the_readme_keeps_its_two_set_up_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/driftcheck check "
        "manifests/example.yaml --live-from manifests/example.snapshot.json"
    ) in readme
    assert "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest" in (
        readme
    )


def test_every_manifest_key_is_documented() -> None:
    """A key the manifest schema accepts but docs/manifest.md never mentions is undocumented."""
    from driftcheck.schemas import load

    manual = (ROOT / "docs" / "manifest.md").read_text(encoding="utf-8")
    schema = load("manifest")
    names: set[str] = set(schema.get("properties", {}))  # type: ignore[arg-type]
    for definition in schema.get("$defs", {}).values():  # type: ignore[attr-defined]
        names.update(definition.get("properties", {}))
    assert names, "the manifest schema lists no keys"
    missing = sorted(name for name in names if f"`{name}`" not in manual)
    assert not missing, f"docs/manifest.md does not mention {missing}"


def test_the_readme_shows_what_the_first_command_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The expected output under the set-up commands is the bundled example's real output."""
    from click.testing import CliRunner

    from driftcheck.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("Expected output of the first command:", 1)[1].split("```", 2)[1]
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        cli,
        ["check", "manifests/example.yaml", "--live-from", "manifests/example.snapshot.json"],
        env={"NO_COLOR": "1"},
    )
    assert result.exit_code == 2
    assert result.output == shown.lstrip("\n")
