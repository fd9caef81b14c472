"""``sshsetup sites``: the catalogue, with each fact's source and confidence."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sshsetup.catalogue import Site

JSON_VERSION = 1


def to_dict(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "origin": site.origin,
        "facts": {k: {"value": f.value, "source": f.source, "confidence": f.confidence} for k, f in site.facts.items()},
    }


def render_json(catalogue: Mapping[str, Site]) -> str:
    doc = {"version": JSON_VERSION, "sites": [to_dict(s) for s in catalogue.values()]}
    return json.dumps(doc, indent=2, sort_keys=True)


def render_text(catalogue: Mapping[str, Site]) -> str:
    rows = [("ID", "ALIAS", "HOSTNAME", "NAME")]
    rows += [(s.id, s.alias, f"{s.hostname}" + (f":{s.port}" if s.port != 22 else ""), s.name) for s in catalogue.values()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=False)) + "  " + r[3] for r in rows]
    unknown = {s.id: s.unknown_facts() for s in catalogue.values() if s.unknown_facts()}
    if unknown:
        lines.append("")
        lines.append("Not known (left empty, never guessed): " + "; ".join(f"{k}: {', '.join(v)}" for k, v in unknown.items()))
    lines.append("Sources and confidence per fact: sshsetup sites --json")
    return "\n".join(lines) + "\n"
