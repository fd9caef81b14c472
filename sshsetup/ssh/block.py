"""The managed block in ~/.ssh/config: pure text -> text functions.

sshsetup owns exactly the lines from ``# BEGIN sshsetup`` to ``# END sshsetup``.
The block goes at the very top of the file, so it is read before every line of
the user's, global options above the first ``Host`` included: ssh takes the first
value it finds, so nothing the user wrote can override what the block sets. Its
last entry is ``Host *`` (``RESTORE``): the user's lines after the block apply to
every host again, exactly as they did before (top-level options and ``Host *``
options are the same thing to ssh). A block an earlier version placed lower down
moves to the top on the next ``upsert`` (``needs_move`` says so beforehand). Every
byte outside the block is kept; removing the block gives back the exact bytes
from before.

sshconf is not used here: its writer drops the final newline and CRLF, moves
edits into ``Match`` blocks and misreads ``Key=value`` (sshconf 0.2.7, measured: docs/development.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sshsetup.errors import Refused

BEGIN = "# BEGIN sshsetup"
END = "# END sshsetup"
BEGIN_LINE = f"{BEGIN} (managed block: change it with 'sshsetup init', delete it with 'sshsetup remove')"
OPTIONS = "# sshsetup-options: "
RESTORE_COMMENT = "# end of sshsetup's hosts: the lines below apply to every host again"
RESTORE = "Host *"
# an entry ``sshsetup code`` added (sshsetup.slurm.session_alias); the options' "sessions" ({alias: site id}) keeps it
SESSION_MARK = "# sshsetup code: session profile "


@dataclass(frozen=True)
class HostEntry:
    pattern: str
    options: tuple[tuple[str, str], ...]
    comment: str = ""


@dataclass(frozen=True)
class Block:
    start: int  # character offset of the BEGIN line
    end: int  # character offset just after the END line (and its line ending)
    line: int  # 1-based line number of BEGIN
    options: dict[str, Any] = field(default_factory=dict)


_MARKER = re.compile(r"^[ \t]*(# BEGIN sshsetup|# END sshsetup)[^\r\n]*(\r\n|\n|\r)?", re.MULTILINE)


def _line_no(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def find_block(text: str, path: Path) -> Block | None:
    """Locate our block; refuse when the markers are duplicated, reversed or unclosed."""
    if "sshsetup" not in text:
        return None
    begins = [m for m in _MARKER.finditer(text) if m.group(1) == BEGIN]
    ends = [m for m in _MARKER.finditer(text) if m.group(1) == END]
    if not begins and not ends:
        return None
    where = ", ".join(f"line {_line_no(text, m.start())}" for m in sorted(begins + ends, key=lambda m: m.start()))
    hint = f"fix or delete the sshsetup marker lines in {path} by hand ({where}), then run sshsetup again"
    if len(begins) > 1 or len(ends) > 1:
        raise Refused(f"{path} has more than one sshsetup block ({where})", hint=hint)
    if not ends:
        raise Refused(f"{path}: the sshsetup block starting at line {_line_no(text, begins[0].start())} is not closed", hint=hint)
    if not begins:
        raise Refused(f"{path}: '{END}' at line {_line_no(text, ends[0].start())} has no '{BEGIN}' line", hint=hint)
    b, e = begins[0], ends[0]
    if e.start() < b.start():
        raise Refused(f"{path}: the sshsetup markers are reversed ({where})", hint=hint)
    options: dict[str, Any] = {}
    for line in text[b.end() : e.start()].splitlines():
        if line.strip().startswith(OPTIONS.strip()):
            try:
                loaded = json.loads(line.strip()[len(OPTIONS.strip()) :])
            except ValueError:
                raise Refused(f"{path}: the sshsetup options line in the block is damaged", hint=hint) from None
            if isinstance(loaded, dict):
                options = loaded
    return Block(b.start(), e.end(), _line_no(text, b.start()), options)


def _one_line(value: str, what: str) -> str:
    """Defence in depth: a comment, pattern or value is never more than one line, whatever the caller passes."""
    from sshsetup.validate import control_char

    found = control_char(value)
    if found is not None:
        raise Refused(f"refusing to write an ssh config {what} containing the control character {found}",
                      hint="this is a bug or a hostile sites file; report it with 'sshsetup doctor --report'")
    return value


def _quote(value: str) -> str:
    value = _one_line(value, "value")
    return f'"{value}"' if " " in value else value


def render_block(entries: list[HostEntry], options: dict[str, Any], eol: str,
                 sessions: Sequence[Sequence[str]] = ()) -> str:
    """The block: ``entries``, then the session entries ``sshsetup code`` added (their lines as they were:
    a ``RemoteCommand`` is not quoted), then the closing ``Host *``."""
    out = [BEGIN_LINE, OPTIONS + json.dumps(options, sort_keys=True, separators=(",", ":"))]
    for n, e in enumerate(entries):
        if n:
            out.append("")
        if e.comment:
            out.append(f"# {_one_line(e.comment, 'comment')}")
        out.append(f"Host {_one_line(e.pattern, 'pattern')}")
        out.extend(f"    {_one_line(k, 'keyword')} {_quote(v)}" for k, v in e.options)
    if entries or sessions:
        out.append("")
    for lines in sessions:
        out.extend(_one_line(line, "session entry line") for line in lines)
        out.append("")
    out += [RESTORE_COMMENT, RESTORE, END]
    return eol.join(out) + eol


def session_entries(text: str, path: Path) -> dict[str, tuple[str, ...]]:
    """The session entries in the block, in their order: ``Host`` alias -> its lines (mark, ``Host``, options)."""
    found = find_block(text, path)
    if found is None or SESSION_MARK not in text[found.start : found.end]:
        return {}
    lines = text[found.start : found.end].splitlines()
    out: dict[str, tuple[str, ...]] = {}
    i = 0
    while i < len(lines):
        if lines[i].startswith(SESSION_MARK) and i + 1 < len(lines) and lines[i + 1].startswith("Host "):
            j = i + 2
            while j < len(lines) and lines[j].startswith("    ") and lines[j].strip():
                j += 1
            out[lines[i + 1][len("Host ") :]] = tuple(lines[i:j])
            i = j
        else:
            i += 1
    return out


def kept_sessions(text: str, options: Mapping[str, Any], path: Path) -> list[tuple[str, ...]]:
    """The session entries of the block in ``text`` that ``options["sessions"]`` still lists (init re-renders them)."""
    wanted = options.get("sessions")
    if not isinstance(wanted, dict) or not wanted:
        return []
    return [lines for alias, lines in session_entries(text, path).items() if alias in wanted]


def set_option(text: str, path: Path, name: str, value: Any) -> str:
    """``text`` with one remembered option of the block set (``None``: removed); every other byte kept."""
    found = find_block(text, path)
    if found is None:
        raise Refused(f"{path} has no sshsetup block", hint="run sshsetup init first")
    options = dict(found.options)
    if value is None:
        options.pop(name, None)
    else:
        options[name] = value
    inner = text[found.start : found.end]
    at = inner.find(OPTIONS.strip())
    if at < 0:
        raise Refused(f"{path}: the sshsetup block has no options line", hint="run sshsetup init to rewrite the block")
    line_end = inner.find("\n", at)
    line_end = len(inner) if line_end < 0 else line_end
    if inner[line_end - 1 : line_end] == "\r":
        line_end -= 1
    new_inner = inner[:at] + OPTIONS + json.dumps(options, sort_keys=True, separators=(",", ":")) + inner[line_end:]
    return text[: found.start] + new_inner + text[found.end :]


def needs_move(text: str, path: Path) -> bool:
    """True when the text has a block that is not at the very top (an earlier version's placement)."""
    block = find_block(text, path)
    return block is not None and block.start != 0


def upsert(text: str, entries: list[HostEntry], options: dict[str, Any], eol: str, path: Path) -> str:
    """The text with our block at the very top, added, replaced or moved there; idempotent."""
    block = find_block(text, path)
    opts = dict(options)
    if block is not None:
        if block.options.get("created"):
            opts["created"] = True
        sessions = kept_sessions(text, opts, path)
        if block.start == 0:
            return render_block(entries, opts, eol, sessions) + text[block.end :]
        text = remove(text, path)  # an earlier placement: the user's bytes as they were, then from the top
        return render_block(entries, opts, eol, sessions) + text
    return render_block(entries, opts, eol) + text


def remove(text: str, path: Path) -> str:
    block = find_block(text, path)
    if block is None:
        return text
    start = block.start
    if block.options.get("eof_newline") and block.end == len(text):
        for eol in ("\r\n", "\n"):
            if text[:start].endswith(eol):
                start -= len(eol)
                break
    return text[:start] + text[block.end :]


def remembered_options(text: str, path: Path) -> dict[str, Any]:
    block = find_block(text, path)
    if block is None:
        return {}
    return {k: v for k, v in block.options.items() if k not in ("eof_newline", "created")}
