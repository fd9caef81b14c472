"""What ``init`` remembered in the managed block, and which sites a command works on.

The one owner of remembered options: every command reads them through :func:`load` and picks
its sites through :func:`choose_sites`, so the fallbacks cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup.catalogue import DEFAULT_SITES
from sshsetup.errors import BadInput

if TYPE_CHECKING:
    from sshsetup.catalogue import Site
    from sshsetup.paths import Paths

__all__ = ["DEFAULT_SITES", "Remembered", "choose_sites", "load", "sites_file"]


@dataclass(frozen=True)
class Remembered:
    """The options stored in the managed block's ``# sshsetup-options:`` line (all optional)."""

    sites: tuple[str, ...] = ()
    user: str | None = None
    key: Path | None = None
    client: str | None = None
    sites_file: Path | None = None
    compute_nodes: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any], where: Path) -> Remembered:
        """Type-check the stored options; a hand-edited block with wrong types is refused."""

        def text(name: str) -> str | None:
            value = options.get(name)
            if value is None:
                return None
            if not isinstance(value, str) or not value:
                raise _bad(where, name)
            return value

        sites = options.get("sites", [])
        if not isinstance(sites, list) or not all(isinstance(s, str) and s for s in sites):
            raise _bad(where, "sites")
        compute = options.get("compute_nodes", False)
        if not isinstance(compute, bool):
            raise _bad(where, "compute_nodes")
        key, sites_file = text("key"), text("sites_file")
        return cls(
            sites=tuple(sites),
            user=text("user"),
            key=Path(key) if key else None,
            client=text("client"),
            sites_file=Path(sites_file) if sites_file else None,
            compute_nodes=compute,
        )


def _bad(where: Path, name: str) -> BadInput:
    return BadInput(
        f"the sshsetup block in {where} has a malformed remembered option {name!r}",
        hint="run 'sshsetup init' again to rewrite the block (or 'sshsetup remove' to delete it)",
    )


def load(paths: Paths) -> Remembered:
    """The remembered options of the block in the user's ssh config (empty without a block)."""
    from sshsetup import files, textfile
    from sshsetup.ssh import block

    data = files.read_bytes(paths.ssh_config)
    if data is None:
        return Remembered()
    doc = textfile.decode(data, paths.ssh_config, allow_bom=False)
    return Remembered.from_options(block.remembered_options(doc.text, paths.ssh_config), paths.ssh_config)


def sites_file(remembered: Remembered, given: Path | None) -> Path | None:
    """``--sites-file``, else the one ``init`` was run with."""
    return given if given is not None else remembered.sites_file


def choose_sites(catalogue: Mapping[str, Site], given: Sequence[str], remembered: Remembered) -> list[Site]:
    """The sites a command works on: ``--site`` values, else those ``init`` set up, else the defaults.

    An unknown id is refused with the known ones, whether it was given or remembered.
    """
    from sshsetup.catalogue import select

    return select(catalogue, tuple(given) or remembered.sites or DEFAULT_SITES)
