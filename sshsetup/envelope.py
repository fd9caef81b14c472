"""The one JSON envelope every ``--json`` prints: ``{"sshsetup": KIND, "version": N, ...}``.

KIND names the document (``doctor``, ``explain``, ``sites``, ``key-line``, ``status``, ...), N is
that document's own version, raised whenever a field changes meaning or goes away (adding a field
does not raise it). Keys are sorted, non-ASCII is kept, control characters are escaped by JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

RESERVED = ("sshsetup", "version")
# what sanitize.shown escapes beyond ASCII controls (JSON escapes C0 itself); DEL too, to be plain
_UNSAFE = re.compile("[\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]")


def document(kind: str, version: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    clash = [k for k in RESERVED if k in payload]
    if clash:
        raise ValueError(f"payload may not set {clash}")
    return {"sshsetup": kind, "version": version, **payload}


def dumps(kind: str, version: int, payload: Mapping[str, Any]) -> str:
    """The envelope as indented JSON text with a final newline.

    Non-ASCII letters stay readable (``Jülich``); every character the sanitiser escapes for a
    terminal (C1 controls, bidi and zero-width marks, line separators) is a ``\\uXXXX`` escape here
    too, so the JSON of a hostile banner or log is as inert on a terminal as the text. JSON itself
    already escapes C0 and DEL is harmless in a string.
    """
    text = json.dumps(document(kind, version, payload), indent=2, sort_keys=True, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def parse(text: str, kind: str, max_version: int) -> dict[str, Any]:
    """Read back an envelope of ``kind``; ValueError when it is not one (or is newer than we know)."""
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("sshsetup") != kind:
        raise ValueError(f"not an sshsetup {kind} document")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= max_version:
        raise ValueError(f"unsupported {kind} document version {version!r}")
    return doc
