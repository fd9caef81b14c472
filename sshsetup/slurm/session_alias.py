"""The managed ``Host`` entry of a session profile (pure text -> text).

``sshsetup code`` adds one entry per profile, e.g. ``Host jsc-testbed-code-develbooster-g1``,
inside sshsetup's managed block (just before its closing ``Host *``; ``sshsetup remove`` takes
the block and so the entry away). The block's options remember it (``"sessions"``: alias ->
site id), so ``sshsetup init`` keeps it when it renders the block again, and
``init --drop-site`` drops it with its site. It reaches the same login node as the site's alias,
with the same ControlPath, so a VS Code window goes over the site's one login connection,
and its ``RemoteCommand`` runs the hash-checked helper there, which attaches to the job.

The entry is rendered here and not by ``ssh.block.render_block``: ssh takes the rest of a
``RemoteCommand`` line literally, so it must not be put in quotes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from sshsetup.errors import Refused
from sshsetup.ssh import block

MARK = block.SESSION_MARK
_SAFE = re.compile(r"[A-Za-z0-9_.,:/~+=@-]+")


def alias_for(site_alias: str, profile_key: str, site_id: str) -> str:
    """``jsc-booster`` + ``juwels-booster-booster-g4`` -> ``jsc-booster-code-booster-g4``."""
    rest = profile_key[len(site_id) + 1 :] if profile_key.startswith(site_id + "-") else profile_key
    return f"{site_alias}-code-{rest}"


def remote_command(helper: str, sha256: str, job_name: str, leads: Sequence[int]) -> str:
    """What the entry runs on the login node: check the helper's hash, then attach to the job."""
    for word in (helper, sha256, job_name):
        if not _SAFE.fullmatch(word):
            raise ValueError(f"unsafe word in RemoteCommand: {word!r}")
    lead_words = ",".join(str(int(x)) for x in leads)
    return (f"cd && echo {sha256}' '' '{helper} | sha256sum -c --status && exec python3 {helper} attach {job_name} {lead_words}"
            f" || echo 'sshsetup: the helper on this login node is missing or changed: run sshsetup code again' >&2")


def entry_lines(alias: str, dumped: Mapping[str, Sequence[str]], command: str, profile_key: str) -> list[str]:
    """The lines of the entry, from ``ssh -G <site alias>`` (same host, port, user, key and socket)."""

    def one(key: str) -> str | None:
        values = dumped.get(key) or []
        return values[0] if values and values[0] != "none" else None

    opts: list[tuple[str, str]] = [("HostName", one("hostname") or ""), ("Port", one("port") or "22"), ("User", one("user") or "")]
    if one("identityfile"):
        opts.append(("IdentityFile", _path(one("identityfile") or "")))
    if one("identitiesonly") == "yes":
        opts.append(("IdentitiesOnly", "yes"))
    if one("controlpath"):
        opts += [("ControlMaster", "auto"), ("ControlPath", _path(one("controlpath") or "")), ("ControlPersist", "10m")]
    opts += [("ServerAliveInterval", "60"), ("RequestTTY", "no"), ("RemoteCommand", command)]
    lines = [f"{MARK}{profile_key}", f"Host {alias}"]
    for k, v in opts:
        if not v or any(c in v for c in "\r\n\0"):
            raise Refused(f"ssh -G gave no usable {k} for the session entry", hint="run sshsetup init, then sshsetup code again")
        lines.append(f"    {k} {v}")
    return lines


def _path(value: str) -> str:
    return value.replace("%", "%%")


def upsert_entry(text: str, lines: Sequence[str], path: Path) -> str:
    """``text`` with the entry (same ``Host`` line) added or replaced inside the managed block."""
    found = block.find_block(text, path)
    if found is None:
        raise Refused(f"{path} has no sshsetup block", hint="run sshsetup init first")
    eol = "\r\n" if "\r\n" in text[found.start : found.end] else "\n"
    inner = text[found.start : found.end].split(eol)
    host = lines[1]
    kept: list[str] = []
    skipping = False
    replaced_at: int | None = None
    for line in inner:
        if line == host or (line.startswith(MARK) and _profile(line) == _profile(lines[0])):
            if not skipping and replaced_at is None:
                replaced_at = len(kept)  # the entry is replaced where it is: its order among the others stays
            skipping = True
            continue
        if skipping and (line.startswith("    ") and line.strip()):
            continue
        skipping = False
        kept.append(line)
    if replaced_at is not None:
        return text[: found.start] + eol.join([*kept[:replaced_at], *lines, *kept[replaced_at:]]) + text[found.end :]
    at = max(i for i, ln in enumerate(kept) if ln.startswith(block.END))
    if at >= 2 and kept[at - 1] == block.RESTORE and kept[at - 2] == block.RESTORE_COMMENT:
        at -= 2  # before the block's closing "Host *": the user's lines after the block stay global
        new = [*kept[:at], *lines, "", *kept[at:]] if at and kept[at - 1] == "" else [*kept[:at], "", *lines, "", *kept[at:]]
    else:
        new = [*kept[:at], "", *lines, *kept[at:]]
    return text[: found.start] + eol.join(new) + text[found.end :]


def record_entry(text: str, path: Path, alias: str, site_id: str) -> str:
    """``text`` with ``alias`` remembered in the block's options as a session entry of ``site_id``."""
    found = block.find_block(text, path)
    known = found.options.get("sessions") if found is not None else None
    sessions = dict(known) if isinstance(known, dict) else {}
    if sessions.get(alias) == site_id:
        return text
    return block.set_option(text, path, "sessions", {**sessions, alias: site_id})


def node_host(pattern: str | None, node: str) -> str:
    """The ssh name of a compute node: the site's node pattern applied (``jwb*i.juwels`` + ``jwb0129`` -> ``jwb0129i.juwels``)."""
    if not pattern or "*" not in pattern:
        return node
    prefix, suffix = pattern.split("*", 1)
    if not node.startswith(prefix) or "*" in suffix:
        return node
    return node + suffix


NODE_NOTE = re.compile(r" \(proxyjump to node ([A-Za-z0-9_.-]{1,100})\)$")


def _profile(mark_line: str) -> str:
    return NODE_NOTE.sub("", mark_line[len(MARK) :])


def proxyjump_node(mark_line: str) -> str | None:
    """The Slurm node a proxyjump entry reaches, from its mark line (``sshsetup doctor``'s node check reads it)."""
    m = NODE_NOTE.search(mark_line) if mark_line.startswith(MARK) else None
    return m.group(1) if m else None


def proxyjump_lines(alias: str, dumped: Mapping[str, Sequence[str]], control_dir: str, profile_key: str,
                    node: str | None = None) -> list[str]:
    """The entry of the ``proxyjump`` transport: the node as ``ssh -G <node>`` sees it (the site's compute-node
    entry gives ProxyJump to the login alias), with a ControlMaster of its own."""

    def one(key: str) -> str | None:
        values = dumped.get(key) or []
        return values[0] if values and values[0] != "none" else None

    jump = one("proxyjump")
    if not jump:
        raise Refused("the compute-node entry has no ProxyJump", hint="run sshsetup init --compute-nodes, then sshsetup code again")
    opts: list[tuple[str, str]] = [("HostName", one("hostname") or ""), ("Port", one("port") or "22"), ("User", one("user") or ""),
                                   ("ProxyJump", jump)]
    if one("identityfile"):
        opts.append(("IdentityFile", _path(one("identityfile") or "")))
    if one("identitiesonly") == "yes":
        opts.append(("IdentitiesOnly", "yes"))
    opts += [("StrictHostKeyChecking", one("stricthostkeychecking") or "accept-new"), ("ControlMaster", "auto"),
             ("ControlPath", _path(control_dir) + "/%C"), ("ControlPersist", "10m"), ("ServerAliveInterval", "60")]
    note = f" (proxyjump to node {node})" if node and NODE_NOTE.search(f" (proxyjump to node {node})") else ""
    lines = [f"{MARK}{profile_key}{note}", f"Host {alias}"]
    for k, v in opts:
        if not v or any(c in v for c in "\r\n\0"):
            raise Refused(f"ssh -G gave no usable {k} for the node entry", hint="run sshsetup init --compute-nodes, then sshsetup code again")
        lines.append(f"    {k} {v}")
    return lines


def key_line_warning(site_id: str, ranges: Sequence[str] | None) -> str | None:
    """ProxyJump reaches a JSC node from the login node's 10.x address: the key's from= must allow 10.0.0.0/8."""
    if ranges is None or "10.0.0.0/8" in ranges:
        return None
    wanted = " ".join(f"--from {r}" for r in (*ranges, "10.0.0.0/8"))
    return (f"warning: the key line recorded for {site_id} lacks 10.0.0.0/8, so the node hop of ProxyJump will be refused;"
            f" fix: sshsetup key-line --site {site_id} {wanted}, then upload that line in JuDoor")



def refreshed(text: str, path: Path, site_alias: Mapping[str, str], dump: Callable[[str], Mapping[str, Sequence[str]] | None]) -> str:
    """``text`` with each session entry rendered again from ``dump`` (``ssh -G`` in ``text``): same profile,
    ``RemoteCommand`` or node, the host, port, user, key and socket of now.

    ``site_alias``: session alias -> its site's alias. An attaching entry copies ``ssh -G <site alias>``; a
    ``proxyjump`` entry copies ``ssh -G <node>`` (the site's compute-node entry). ``init`` calls this after
    changing the block: an entry still naming the old user, or the ControlPath ``ssh -G`` expanded for him,
    would miss the site's live login and authenticate again (another TOTP code). An entry that cannot be
    rendered from its dump stays as it was.
    """
    for alias, lines in block.session_entries(text, path).items():
        values = {ln.strip().partition(" ")[0]: ln.strip().partition(" ")[2] for ln in lines[2:]}
        if not lines[0].startswith(MARK) or alias not in site_alias:
            continue
        try:
            if "RemoteCommand" in values:
                dumped = dump(site_alias[alias])
                new = None if dumped is None else entry_lines(alias, dumped, values["RemoteCommand"], _profile(lines[0]))
            elif "ProxyJump" in values and values.get("ControlPath", "").endswith("/%C"):
                dumped = dump(values.get("HostName", ""))
                control_dir = values["ControlPath"][: -len("/%C")].replace("%%", "%")
                new = None if dumped is None else proxyjump_lines(alias, dumped, control_dir, _profile(lines[0]), proxyjump_node(lines[0]))
            else:
                new = None
        except Refused:
            new = None
        if new is not None and tuple(new) != lines:
            text = upsert_entry(text, new, path)
    return text
