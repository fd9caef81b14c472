"""The README and docs promise what the code does: keep them in step."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sshsetup import errors
from tests import gen_refusals

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
UNEXPECTED = 3  # cli.main's "please report" exit for an unexpected error (no constant in errors.py)


def section(text: str, heading: str) -> str:
    """The body under ``heading`` up to the next heading of the same or a higher level."""
    m = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.M)
    assert m is not None, f"no section {heading!r}"
    body = text[m.end():]
    nxt = re.search(rf"^#{{1,{len(m.group(1))}}} ", body, re.M)
    return body[: nxt.start()] if nxt else body


def table(text: str) -> list[list[str]]:
    rows = [ln for ln in text.splitlines() if ln.startswith("|")]
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in rows]
    return [r for r in cells[1:] if not set("".join(r)) <= set("-: ")]


def quickstart() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", section(README, "Quickstart"), re.S)
    assert block is not None
    return [ln.split("  #")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]


def exit_constants() -> dict[int, str]:
    """errors.py's EXIT_* constants: value -> the comment on their line ('' when none)."""
    source = Path(errors.__file__).read_text(encoding="utf-8")
    lines = source.splitlines()
    found: dict[int, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.startswith("EXIT_"):
            value = getattr(errors, node.targets[0].id)
            comment = lines[node.lineno - 1].partition("#")[2].strip()
            found[value] = comment
    return found


def test_quickstart_is_two_commands_clone_install_init_then_the_test_suite() -> None:
    first, second = quickstart()
    assert re.fullmatch(r"git clone https://\S+/sshsetup\.git && python3 sshsetup/install\.py", first), first
    assert second == "bash sshsetup/.ci/run"
    assert (ROOT / "install.py").is_file() and (ROOT / ".ci" / "run").is_file()
    assert "py sshsetup\\install.py" in section(README, "Quickstart")  # the Windows form


def test_exit_code_table_matches_errors_py() -> None:
    rows = table(section(README, "Exit codes"))
    documented = {int(code): meaning for code, meaning in rows}
    constants = exit_constants()
    assert set(documented) == set(constants) | {UNEXPECTED}
    for code, comment in constants.items():
        if comment:  # the README's meaning starts with the constant's own comment
            assert documented[code].startswith(comment), (code, documented[code], comment)
    assert errors.SshSetupError.exit_code == errors.EXIT_FAIL and errors.BadInput.exit_code == errors.EXIT_USAGE
    assert documented[errors.EXIT_OK].startswith("success")
    assert documented[errors.EXIT_INTERRUPTED].startswith("interrupted")
    assert documented[UNEXPECTED].startswith("an unexpected error")


def test_refusal_catalogue_is_generated_from_the_test_table() -> None:
    on_disk = (ROOT / "docs" / "refusals.md").read_text(encoding="utf-8")
    assert on_disk == gen_refusals.render(), "docs/refusals.md is out of date: run python -m tests.gen_refusals"


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.*)$", text, re.M)}


def test_docs_links_resolve() -> None:
    """Every relative link in README.md and docs/*.md names a file of the repository, and its #anchor a heading there."""
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            linked = (doc.parent / target) if target else doc
            assert linked.exists(), f"{doc.relative_to(ROOT)} links to {target}, which does not exist"
            if anchor and linked.suffix == ".md":
                assert anchor in _anchors(linked.read_text(encoding="utf-8")), f"{doc.relative_to(ROOT)}: no heading for {target}#{anchor}"
