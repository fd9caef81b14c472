"""The trimmed unified diff is a correct patch (applied back, it gives the new text)."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sshsetup.files import FileChange, Planned, Verb, diff

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_patch(old: list[str], patch: str) -> list[str]:
    lines = patch.splitlines(keepends=True)[2:]
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(lines):
        m = HUNK.match(lines[i])
        assert m, lines[i]
        start, count = int(m.group(1)), int(m.group(2) or 1)
        start = start - 1 if count else start
        out += old[pos:start]
        pos = start
        i += 1
        while i < len(lines) and not lines[i].startswith("@@"):
            tag, body = lines[i][0], lines[i][1:]
            if i + 1 < len(lines) and lines[i + 1].startswith("\\"):
                body = body[:-1]
                i += 1
            if tag in " -":
                assert old[pos] == body, (old[pos], body)
                pos += 1
            if tag in " +":
                out.append(body)
            i += 1
    return out + old[pos:]


line = st.sampled_from(["a\n", "b\n", "c\n", "Host x\n", "\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(line, max_size=40), st.lists(st.tuples(st.integers(0, 40), st.booleans(), line), min_size=1, max_size=4), st.booleans())
def test_diff_applies(old: list[str], edits: list[tuple[int, bool, str]], cut_eol: bool) -> None:
    new = list(old)
    for at, delete, text in edits:
        if delete and new:
            del new[at % len(new)]
        else:
            new.insert(at % (len(new) + 1), text)
    if cut_eol and new:
        new[-1] = new[-1].rstrip("\n")
    ob, nb = "".join(old).encode(), "".join(new).encode()
    p = Planned(FileChange(Path("f"), nb), Path("f"), ob, Verb.UPDATE if ob != nb else Verb.IDENTICAL)
    patch = diff(p)
    if ob == nb:
        assert patch == ""
        return
    assert "".join(apply_patch(old, patch)) == "".join(new)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 30), st.lists(st.tuples(st.integers(0, 40), st.booleans()), min_size=1, max_size=4), st.integers(0, 3),
       st.booleans())
def test_diff_is_difflib_on_the_whole_file(n: int, edits: list[tuple[int, bool]], context: int, cut_eol: bool) -> None:
    """With distinct lines the alignment is unique, so trimming must give difflib's own diff of the whole file."""
    import difflib

    old = [f"line {i}\n" for i in range(n)]
    new = list(old)
    for k, (at, delete) in enumerate(edits):
        if delete and new:
            del new[at % len(new)]
        else:
            new.insert(at % (len(new) + 1), f"new {k}\n")
    if cut_eol and new:
        new[-1] = new[-1].rstrip("\n")
    ob, nb = "".join(old).encode(), "".join(new).encode()
    if ob == nb:
        return
    got = diff(Planned(FileChange(Path("f"), nb), Path("f"), ob, Verb.UPDATE), context=context)
    want = "".join(ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n"
                   for ln in difflib.unified_diff(old, "".join(new).splitlines(keepends=True), "f", "f", n=context))
    assert got == want
