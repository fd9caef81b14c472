"""``sshsetup sites``: the catalogue, with each fact's source and confidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sshsetup import remembered
from sshsetup.catalogue import Site, load_catalogue
from sshsetup.errors import EXIT_OK
from sshsetup.paths import Paths
from sshsetup.result import Result
from sshsetup.sanitize import shown

JSON_VERSION = 1


@dataclass(frozen=True)
class SitesOptions:
    sites_file: Path | None = None
    as_json: bool = False


def to_dict(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "origin": site.origin,
        "facts": {k: {"value": f.value, "source": f.source, "confidence": f.confidence} for k, f in site.facts.items()},
    }


def render_text(catalogue: Mapping[str, Site]) -> str:
    rows = [("ID", "ALIAS", "HOSTNAME", "NAME")]
    rows += [(s.id, s.alias, f"{s.hostname}" + (f":{s.port}" if s.port != 22 else ""), shown(s.name))
             for s in catalogue.values()]  # a sites file is a stranger's: its name is shown through the one sanitiser
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=False)) + "  " + r[3] for r in rows]
    unknown = {s.id: s.unknown_facts() for s in catalogue.values() if s.unknown_facts()}
    if unknown:
        lines.append("")
        lines.append("Not known (left empty, never guessed): "
                     + shown("; ".join(f"{k}: {', '.join(v)}" for k, v in unknown.items())))
    lines.append("Sources and confidence per fact: sshsetup sites --json")
    return "\n".join(lines) + "\n"


def run(paths: Paths, options: SitesOptions) -> Result:
    """The catalogue with ``--sites-file`` (else the one ``init`` was run with) and the user's sites.toml."""
    rem = remembered.load(paths)
    catalogue = load_catalogue(remembered.sites_file(rem, options.sites_file), paths.sites_file)
    return Result("sites", EXIT_OK, output=render_text(catalogue), data={"sites": [to_dict(s) for s in catalogue.values()]},
                  version=JSON_VERSION)
