"""The one sanitiser for text sshsetup did not write: a banner, a log, a report, a sites file.

Every such string passes through :func:`shown` before it reaches a terminal. Control characters
(C0 but TAB in :func:`shown_block`, DEL, C1) and the Unicode characters that reorder or hide text
(bidi controls, zero-width marks) are shown escaped (``\\x1b``, ``\\u202e``), so an OSC 52 clipboard
write, a screen clear, a window title or a bare CR that overwrites a line with a fake result can
never act on the reader's terminal. Linear time; JSON output escapes these anyway.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls; zero-width marks, bidi embeddings/overrides/isolates, line and
# paragraph separators, BOM.
_CODES = [*range(0x20), *range(0x7F, 0xA0), *range(0x200B, 0x2010), *range(0x202A, 0x202F), 0x2028, 0x2029,
          *range(0x2066, 0x206A), 0xFEFF]


def _esc(n: int) -> str:
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


_TABLE = {n: _esc(n) for n in _CODES}
_TABLE_KEEP_LINES = {n: e for n, e in _TABLE.items() if n not in (0x09, 0x0A)}
_UNSAFE = re.compile("[" + "".join(re.escape(chr(n)) for n in _CODES) + "]")


def shown(text: str) -> str:
    """One line, safe for a terminal: every control character escaped (newlines too)."""
    return text.translate(_TABLE) if _UNSAFE.search(text) else text


def shown_block(text: str) -> str:
    """Several lines, safe for a terminal: newlines and TABs kept, every other control escaped.

    A CR is escaped too (``\\x0d``), even in CRLF: a pasted log's line endings are normalised
    before this is called.
    """
    return text.translate(_TABLE_KEEP_LINES) if _UNSAFE.search(text) else text


def is_clean(text: str) -> bool:
    """True when :func:`shown` would return the text unchanged."""
    return _UNSAFE.search(text) is None
