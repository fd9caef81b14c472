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
    aliases: tuple[tuple[str, str], ...] = ()  # (site id, alias): the user's own name adopted with init --alias
    account: str | None = None  # init --account: the project (at JSC also the usual budget)
    sessions: tuple[tuple[str, str], ...] = ()  # (alias, site id): the session entries sshsetup code added

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
        aliases = options.get("aliases", {})
        if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) and k and v
                                                    for k, v in aliases.items()):
            raise _bad(where, "aliases")
        sessions = options.get("sessions", {})
        if not isinstance(sessions, dict) or not all(isinstance(k, str) and isinstance(v, str) and k and v
                                                     for k, v in sessions.items()):
            raise _bad(where, "sessions")
        key, sites_file = text("key"), text("sites_file")
        return cls(
            sites=tuple(sites),
            user=text("user"),
            key=Path(key) if key else None,
            client=text("client"),
            sites_file=Path(sites_file) if sites_file else None,
            compute_nodes=compute,
            aliases=tuple(sorted(aliases.items())),
            account=text("account"),
            sessions=tuple(sorted(sessions.items())),
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

    An unknown id is refused with the known ones, whether it was given or remembered. A site whose
    alias ``init --alias`` replaced with the user's own name carries that name.
    """
    from sshsetup.catalogue import select

    chosen = select(catalogue, tuple(given) or remembered.sites or DEFAULT_SITES)
    return [with_alias(s, dict(remembered.aliases).get(s.id)) for s in chosen]


def with_alias(site: Site, alias: str | None) -> Site:
    """``site`` under another ssh alias (the user's own, adopted with ``init --alias``)."""
    import dataclasses

    from sshsetup import validate
    from sshsetup.catalogue import Fact

    if alias is None or alias == site.alias:
        return site
    validate.alias(alias, what=f"remembered alias of {site.id}")
    return dataclasses.replace(site, facts={**site.facts, "alias": Fact(alias, "--alias", "given")})
