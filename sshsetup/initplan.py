"""``sshsetup init``: key, managed ssh config block, VS Code settings; then the key line.

``build_plan`` is a chain of small steps that each return data; the plan is frozen. ``compute_contents``
gives the new bytes of every file from what is on disk (``execute`` calls it again under the lock),
and ``execute`` checks the candidate ssh config with the real ``ssh -G`` before anything is replaced:
on a refusal every file is as it was.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sshsetup import files, state, textfile
from sshsetup import remembered as remembered_mod
from sshsetup.catalogue import DEFAULT_SITES, Site, load_catalogue, select
from sshsetup.errors import BadInput
from sshsetup.judoor.keyline import KeyLine, KeyLineOptions, address_family, compute, load_named
from sshsetup.paths import Paths
from sshsetup.remembered import Remembered
from sshsetup.ssh import block as sshconfig
from sshsetup.ssh import keys, passphrase
from sshsetup.ssh.block import HostEntry
from sshsetup.ssh.entries import EntryOptions, control_dir_fits, site_entries
from sshsetup.ssh.handwritten import HandWritten
from sshsetup.ssh.verify import Expected, Mismatch, Target, _temp_beside, check_candidate, targets

KEY_LINE_DETECT_TIMEOUT = 2.0  # seconds for the public-address lookup of the key line


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Prompter:
    confirm: Callable[[str], bool]
    text: Callable[[str], str]
    secret: Callable[[str], str]  # one hidden question (no echo)
    say: Callable[[str], None] = _stderr  # why a question is asked again
    enter: Callable[[str], None] = _stderr  # shows msg, returns on Enter, returns on Enter (the guided end of init)


PASSPHRASE_TRIES = 3


def passphrase_prompt(jsc: bool) -> str:
    return f"Passphrase for the new key (at least {passphrase.MIN_LENGTH} characters)" if jsc else "Passphrase for the new key"


def new_passphrase(ask: Prompter, *, jsc: bool, allow_empty: bool) -> str:
    """The new key's passphrase, typed twice; a short or mismatching one is asked again, up to three tries."""
    for n in range(1, PASSPHRASE_TRIES + 1):
        typed = ask.secret(passphrase_prompt(jsc))
        try:
            passphrase.check(passphrase.checked_bytes(typed.encode("utf-8"), "the typed passphrase"), jsc=jsc,
                             allow_empty=allow_empty)
        except BadInput as exc:
            problem = exc
        else:
            if ask.secret("Repeat for confirmation") == typed:
                return typed
            problem = BadInput("the two passphrases do not match", hint="type the same passphrase twice")
        if n == PASSPHRASE_TRIES:
            raise BadInput(f"{problem.message} ({PASSPHRASE_TRIES} tries; nothing was changed)", hint=problem.hint)
        left = PASSPHRASE_TRIES - n
        ask.say(f"{problem.message}; try again ({left} {'try' if left == 1 else 'tries'} left)")
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class InitOptions:
    sites: tuple[str, ...] = ()
    user: str | None = None
    key: Path | None = None
    passphrase_file: str | None = None
    sites_file: Path | None = None
    compute_nodes: bool | None = None
    client: str = "auto"  # auto | openssh | windows | macos
    dry_run: bool = False
    yes: bool = False
    insecure_empty_passphrase: bool = False
    from_ranges: tuple[str, ...] = ()
    policy: str = "16"
    vscode: bool = True
    project_dir: str | None = None
    account: str | None = None
    aliases: tuple[tuple[str, str], ...] = ()  # (site id, alias): adopt the user's own name for a managed entry
    drop_sites: tuple[str, ...] = ()  # remembered sites to leave out (--drop-site); --site only ever adds
    guide: bool = False  # the guided hand-off follows (sshsetup.initguide): it copies the line, not the hand-off


@dataclass(frozen=True)
class InitPlan:
    sites: list[Site]
    user: str
    key_path: Path
    new_key: keys.NewKey | None
    key_info: keys.KeyInfo | None
    public_line: str
    key_line: KeyLine
    changes: tuple[files.FileChange, ...] = ()
    expected: tuple[Expected, ...] = ()
    notes: tuple[str, ...] = ()
    control_dir: Path | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    vscode_records: Mapping[str, object] = field(default_factory=dict)
    entries: tuple[HostEntry, ...] = ()
    windows: bool = False
    install_paths: Mapping[str, str | None] = field(default_factory=dict)
    targets: tuple[Target, ...] = ()  # what the pre-write check asks ssh about
    hand_written: tuple[HandWritten, ...] = ()  # the user's own entries for the managed hosts
    moved: bool = False  # an earlier version's block moves to the top of the file
    dropped: tuple[Site, ...] = ()  # remembered sites whose entries leave the block (--drop-site)
    dropped_sessions: tuple[str, ...] = ()  # their session entries (sshsetup code), which leave with them

    def dropped_line(self) -> str | None:
        """The one line, before the question, that names every alias that leaves the config."""
        if not self.dropped:
            return None
        what = "its Host entry leaves" if len(self.dropped) == 1 else "their Host entries leave"
        sessions = f" with the session entries {', '.join(self.dropped_sessions)}" if self.dropped_sessions else ""
        return (f"Dropping {', '.join(f'{s.alias} ({s.id})' for s in self.dropped)}: {what} the sshsetup block{sessions} "
                "(the key, and the key in JuDoor, stay as they are).")


@dataclass(frozen=True)
class Contents:
    """The new bytes of every file init writes, computed from the disk as it is now."""

    changes: tuple[files.FileChange, ...]
    notes: tuple[str, ...]
    vscode_records: Mapping[str, object]
    moved: bool

    @property
    def config(self) -> files.FileChange:
        return self.changes[0]


def windows_client(client: str) -> bool:
    if client == "windows":
        return True
    if client == "openssh":
        return False
    return sys.platform == "win32"


def macos_client(client: str) -> bool:
    return client == "macos" or (client == "auto" and sys.platform == "darwin")


def read_config_text(paths: Paths) -> tuple[textfile.TextDoc | None, bytes | None]:
    old = files.read_bytes(paths.ssh_config)
    if old is None:
        return None, None
    return textfile.decode(old, paths.ssh_config, allow_bom=False), old


# ---- the steps of build_plan -------------------------------------------------------------------


def _sites_file(opts: InitOptions, rem: Remembered) -> Path | None:
    sites_file = remembered_mod.sites_file(rem, opts.sites_file)
    if sites_file is not None and not sites_file.is_absolute():
        sites_file = Path.cwd() / sites_file
    return sites_file


def _aliases(opts: InitOptions, rem: Remembered) -> dict[str, str]:
    from sshsetup import validate

    out = dict(rem.aliases)
    for site_id, alias in opts.aliases:
        out[site_id] = validate.alias(alias, what=f"--alias {site_id}=")
    return out


def site_ids(given: tuple[str, ...], remembered: tuple[str, ...], drop: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the ids to set up, the remembered ids dropped): the remembered sites plus ``--site``, minus ``--drop-site``.

    Without remembered sites ``--site`` alone counts (else the defaults). Dropping a site that is not set
    up, or every site, is refused: the first is a typo, the second is ``sshsetup remove``.
    """
    base = remembered or (() if given else DEFAULT_SITES)
    ids = tuple(dict.fromkeys((*base, *given)))
    for d in drop:
        if d in given:
            raise BadInput(f"--drop-site {d}: {d} is also given with --site", hint="give a site either to add or to drop")
        if d not in ids:
            known = ", ".join(ids) or "none"
            raise BadInput(f"--drop-site {d}: {d} is not one of the sites being set up ({known})",
                           hint="name a site from the list, e.g. --drop-site " + (ids[0] if ids else "jusuf"))
    kept = tuple(i for i in ids if i not in drop)
    if not kept:
        raise BadInput("--drop-site would drop every site", hint="to undo everything sshsetup wrote, run: sshsetup remove")
    return kept, tuple(i for i in ids if i in drop)


def _sites(paths: Paths, opts: InitOptions, rem: Remembered, sites_file: Path | None,
           aliases: Mapping[str, str]) -> tuple[list[Site], tuple[Site, ...]]:
    catalogue = load_catalogue(sites_file, paths.sites_file)
    ids, dropped_ids = site_ids(opts.sites, rem.sites, opts.drop_sites)
    sites = select(catalogue, ids)
    dropped = tuple(remembered_mod.with_alias(s, aliases.get(s.id)) for s in select(catalogue, dropped_ids)) if dropped_ids else ()
    unknown = sorted(set(a for a, _ in opts.aliases) - {s.id for s in sites})
    if unknown:
        raise BadInput(f"--alias {unknown[0]}=...: {unknown[0]} is not one of the sites being set up",
                       hint="name a site given with --site (or set up before), e.g. --alias juwels-booster=booster")
    return [remembered_mod.with_alias(s, aliases.get(s.id)) for s in sites], dropped


def _resolve_user(opts: InitOptions, rem: Remembered, sites: list[Site], ask: Prompter | None) -> str:
    user = opts.user if opts.user is not None else rem.user
    if user is None and all(s.get("user") for s in sites):
        user = str(sites[0].get("user"))
    if user is None:
        if ask is None:
            raise BadInput("--user is required", hint="pass your JSC user name (shown in JuDoor), e.g. --user smith1")
        user = ask.text("Your JSC user name (as shown in JuDoor)").strip()
    from sshsetup import validate

    return validate.user(user)


def _key_path(paths: Paths, opts: InitOptions, rem: Remembered) -> Path:
    key_path = opts.key or rem.key or paths.default_key
    return key_path if key_path.is_absolute() else (Path.cwd() / key_path)


@dataclass(frozen=True)
class _Key:
    new_key: keys.NewKey | None
    info: keys.KeyInfo | None
    public_line: str
    notes: tuple[str, ...]


def _key(key_path: Path, opts: InitOptions, ask: Prompter | None, *, jsc: bool) -> _Key:
    """The existing key (inspected) or a new one (generated in memory; written by ``execute``)."""
    if key_path.exists() or opts.key is not None:
        info = keys.inspect_key(key_path)
        notes: tuple[str, ...] = ()
        if info.encrypted is False:
            notes = (f"warning: {key_path} has no passphrase; JSC requires an encrypted private key (ssh-keygen -p -f {key_path})",)
        return _Key(None, info, f"{info.public_line} {info.comment}".strip() + "\n", notes)
    prompt = None
    if ask is not None and opts.passphrase_file is None and not (opts.insecure_empty_passphrase and not jsc):
        typed = new_passphrase(ask, jsc=jsc, allow_empty=opts.insecure_empty_passphrase)

        def prompt() -> str:
            return typed
    pw = passphrase.obtain(opts.passphrase_file, prompt, jsc=jsc, allow_empty=opts.insecure_empty_passphrase)
    import getpass  # only for a new key's comment: socket alone costs a dry run ~2 ms
    import socket

    comment = f"{getpass.getuser()}@{socket.gethostname().split('.')[0]}"
    new_key = keys.generate(pw or None, comment)
    return _Key(new_key, None, new_key.public_line, ())


def _control_dir(paths: Paths, windows: bool) -> tuple[Path | None, tuple[str, ...]]:
    if windows:
        return None, ()
    real = paths.ssh_dir / "cm"
    if control_dir_fits(real):
        return real, ()
    return None, (f"note: no ControlMaster: the socket path under {real} would exceed 108 bytes",)


def _key_line(paths: Paths, opts: InitOptions, public_line: str, compute_nodes: bool, sites: list[Site]) -> KeyLine:
    from sshsetup.judoor import cidr

    kl_opts = KeyLineOptions(from_ranges=opts.from_ranges, policy=cidr.parse_policy(opts.policy), internal=None,
                             detect_timeout=KEY_LINE_DETECT_TIMEOUT, rdap_cache=paths.state_dir / "rdap")
    return compute(public_line.strip(), kl_opts, load_named(paths.config_dir / "ranges.json"), compute_nodes, sites)


def _block_options(sites: list[Site], user: str, key_path: Path, compute_nodes: bool, opts: InitOptions,
                   sites_file: Path | None, aliases: Mapping[str, str], rem: Remembered) -> dict[str, object]:
    options: dict[str, object] = {"sites": [s.id for s in sites], "user": user, "key": str(key_path), "compute_nodes": compute_nodes}
    if opts.client != "auto":
        options["client"] = opts.client
    if sites_file is not None:
        options["sites_file"] = str(sites_file)
    kept = {s.id: aliases[s.id] for s in sites if s.id in aliases}
    if kept:
        options["aliases"] = kept
    account = opts.account or rem.account
    if account:
        options["account"] = account
    sessions = kept_sessions(rem, sites)
    if sessions:
        options["sessions"] = sessions
    return options


def unrecorded_sessions(text: str, path: Path, sites: list[Site], rem: Remembered) -> dict[str, str]:
    """Session entries a block of an earlier version holds without remembering them: their site from the
    alias (``<site alias>-code-...``, the longest site alias that fits), so init keeps them too."""
    known = dict(rem.sessions)
    out: dict[str, str] = {}
    for alias in sshconfig.session_entries(text, path):
        owners = [s for s in sites if alias.startswith(f"{s.alias}-code-")]
        if alias not in known and owners:
            out[alias] = max(owners, key=lambda s: len(s.alias)).id
    return out


def kept_sessions(rem: Remembered, sites: list[Site]) -> dict[str, str]:
    """The session entries ``sshsetup code`` added (alias -> site id) whose site stays set up: ``upsert``
    carries their lines over; a dropped site's leave the block with it."""
    ids = {s.id for s in sites}
    return {a: i for a, i in rem.sessions if i in ids}


def _expected(paths: Paths, sites: list[Site], user: str, key_path: Path, compute_nodes: bool) -> tuple[Expected, ...]:
    """The four values doctor and the post-write ``verify`` compare (the pre-write check covers every option)."""
    out = [
        Expected(s.alias, {"hostname": s.hostname, "user": user, "port": str(s.port), "identityfile": paths.ssh_tilde(key_path)})
        for s in sites
    ]
    if compute_nodes:  # a compute node must reach the cluster through our login alias, as our user
        out += [
            Expected(str(s.get("compute_node_example")), {"proxyjump": s.alias, "user": user})
            for s in sites
            if s.compute_node_pattern and s.get("compute_node_example")
        ]
    return tuple(out)


def _examples(sites: list[Site]) -> dict[str, str]:
    return {str(s.compute_node_pattern): str(s.get("compute_node_example")) for s in sites
            if s.compute_node_pattern and s.get("compute_node_example")}


def _hand_written(paths: Paths, sites: list[Site], user: str, identity_file: str) -> tuple[HandWritten, ...]:
    """The user's own Host entries (outside the block) that reach a managed host."""
    from sshsetup.ssh import handwritten

    doc, _ = read_config_text(paths)
    if doc is None or not any(w in doc.text.lower() for w in ("host", "include")):
        return ()
    mine = sshconfig.remove(doc.text, paths.ssh_config)
    ssh_dir = paths.pw_home / ".ssh"
    if not handwritten.candidates(mine, paths.ssh_config, ssh_dir, {s.hostname.lower() for s in sites}):
        return ()  # nothing that may reach a managed host: no ssh -G at all (a 10,000-host config costs nothing)
    if mine == doc.text:
        return tuple(handwritten.find(paths.ssh_config, paths.ssh_config, sites, user, identity_file, ssh_dir))
    tmp = _temp_beside(paths.ssh_config, mine.encode("utf-8"))
    try:
        found = handwritten.find(tmp, paths.ssh_config, sites, user, identity_file, ssh_dir)
    finally:
        tmp.unlink(missing_ok=True)
    return tuple(found)


def build_plan(paths: Paths, opts: InitOptions, ask: Prompter | None) -> InitPlan:
    rem = remembered_mod.load(paths)  # the one reader of what the block remembers
    sites_file = _sites_file(opts, rem)
    aliases = _aliases(opts, rem)
    sites, dropped = _sites(paths, opts, rem, sites_file, aliases)
    doc, _ = read_config_text(paths)
    found = unrecorded_sessions(doc.text, paths.ssh_config, [*sites, *dropped], rem) if doc else {}
    if found:
        rem = dataclasses.replace(rem, sessions=tuple(sorted({**dict(rem.sessions), **found}.items())))
    from sshsetup.ssh import takeover  # a sites-file alias must not take over the user's own Host (issue 12)
    takeover.refuse(paths.ssh_config, paths.pw_home / ".ssh", sites)
    user = _resolve_user(opts, rem, sites, ask)
    key_path = _key_path(paths, opts, rem)
    key = _key(key_path, opts, ask, jsc=any(s.is_jsc for s in sites))
    compute_nodes = opts.compute_nodes if opts.compute_nodes is not None else rem.compute_nodes
    win = windows_client(opts.client)
    control_dir, control_notes = _control_dir(paths, win)
    key_line = _key_line(paths, opts, key.public_line, compute_nodes, sites)
    identity_file = paths.ssh_tilde(key_path)
    eo = EntryOptions(
        user=user,
        identity_file=identity_file,
        windows_client=win,
        macos_keychain=macos_client(opts.client),
        control_dir=paths.ssh_tilde(control_dir) if control_dir else None,
        compute_nodes=compute_nodes,
        address_family={s.alias: address_family(s, key_line) for s in sites},
    )
    entries = tuple(site_entries(sites, eo))
    install_paths: dict[str, str | None] = {}
    vscode_notes: list[str] = []
    if opts.vscode:
        from sshsetup.vscode import settings_plan as init_vscode

        install_paths, vscode_notes = init_vscode.project_dirs(paths, sites, user, opts.project_dir, opts.account,
                                                               dry_run=opts.dry_run)
    hand = _hand_written(paths, sites, user, identity_file)
    plan = InitPlan(
        sites=sites, user=user, key_path=key_path, new_key=key.new_key, key_info=key.info, public_line=key.public_line,
        key_line=key_line, expected=_expected(paths, sites, user, key_path, compute_nodes),
        notes=(*key.notes, *control_notes, *vscode_notes, *(h.note() for h in hand)), control_dir=control_dir,
        options=_block_options(sites, user, key_path, compute_nodes, opts, sites_file, aliases, rem), entries=entries,
        windows=win, install_paths=install_paths, targets=tuple(targets(list(entries), _examples(sites))), hand_written=hand,
        dropped=dropped, dropped_sessions=tuple(sorted(set(kept_sessions(rem, list(dropped))))),
    )
    contents = compute_contents(paths, plan, opts.vscode)
    return dataclasses.replace(plan, changes=contents.changes, notes=_merge_notes(plan.notes, contents.notes),
                               vscode_records=contents.vscode_records, moved=contents.moved)


def _merge_notes(notes: tuple[str, ...], more: tuple[str, ...]) -> tuple[str, ...]:
    return notes + tuple(n for n in more if n not in notes)


def moved_note(paths: Paths) -> str:
    return f"note: moved the sshsetup block to the top of {paths.ssh_config}, so that no line of yours overrides it"


def compute_contents(paths: Paths, plan: InitPlan, vscode: bool) -> Contents:
    """The new bytes of every file, from what is on disk now (again under the lock, before writing)."""
    doc, _ = read_config_text(paths)
    eol = doc.eol if doc and doc.text else ("\r\n" if plan.windows else "\n")
    block_opts = {**plan.options, "created": True} if doc is None else dict(plan.options)  # created: remove deletes the file
    old_text = doc.text if doc else ""
    moved = sshconfig.needs_move(old_text, paths.ssh_config)
    new_text = _refresh_sessions(paths, sshconfig.upsert(old_text, list(plan.entries), block_opts, eol, paths.ssh_config), plan)
    changes = [files.FileChange(paths.ssh_config, new_text.encode("utf-8"), mode=0o600, label="ssh config")]
    notes: list[str] = [moved_note(paths)] if moved else []
    records: Mapping[str, object] = {}
    if vscode:
        from sshsetup.vscode import settings_plan as init_vscode

        vs = init_vscode.plan(paths, plan.sites, windows_client=plan.windows, install_paths=dict(plan.install_paths),
                              manifest=state.load(paths.manifest))
        changes += vs.changes
        notes += vs.notes[:1]
        records = vs.records
    return Contents(tuple(changes), tuple(notes), records, moved)


def _refresh_sessions(paths: Paths, text: str, plan: InitPlan) -> str:
    """The kept session entries rendered again from ``ssh -G`` in the candidate ``text``: they copy the
    site's user, key and expanded ControlPath, which this init may have changed."""
    wanted = plan.options.get("sessions")
    if not isinstance(wanted, dict) or not wanted:
        return text
    import subprocess

    from sshsetup.slurm import session_alias
    from sshsetup.ssh.client import Ssh

    by_id = {s.id: s.alias for s in plan.sites}
    site_alias = {str(a): by_id[str(i)] for a, i in wanted.items() if str(i) in by_id}
    cache: dict[str, dict[str, list[str]] | None] = {}
    tmp = _temp_beside(paths.ssh_config, text.encode("utf-8"))
    ssh = Ssh(tmp)

    def dump(host: str) -> dict[str, list[str]] | None:
        if host not in cache:
            try:
                cache[host] = ssh.dump(host)
            except (RuntimeError, ValueError, OSError, subprocess.SubprocessError):
                cache[host] = None  # the pre-write check reports a candidate that ssh cannot read
        return cache[host]

    try:
        return session_alias.refreshed(text, paths.ssh_config, site_alias, dump)
    finally:
        tmp.unlink(missing_ok=True)


def rendered_block(plan: InitPlan, eol: str = "\n") -> str:
    """The managed block alone, as ``compute_contents`` writes it (the reference of the pre-write check)."""
    return sshconfig.render_block(list(plan.entries), dict(plan.options), eol)


def check(paths: Paths, plan: InitPlan, contents: Contents) -> None:
    """The pre-write check: the real ``ssh -G`` reads the candidate config and every option of the block wins."""
    if not plan.targets:
        return
    config = contents.config
    check_candidate(paths.ssh_config, config.new or b"", rendered_block(plan), list(plan.targets))


def _manifest_change(paths: Paths, plan: InitPlan, contents: Contents) -> files.FileChange:
    doc = state.load(paths.manifest)
    doc["ssh_config"] = str(paths.ssh_config)
    if plan.control_dir is not None:
        state.add_unique(doc, "control_dirs", str(plan.control_dir))
    state.add_unique(doc, "keys", str(plan.key_path))
    if contents.vscode_records:
        doc.setdefault("vscode_settings", {}).update(contents.vscode_records)
    return state.change(paths.manifest, doc)


@dataclass(frozen=True)
class InitResult:
    outcomes: list[files.Outcome]
    key_created: bool
    fingerprint_line: str
    mismatches: list[Mismatch]  # always empty: a value that would not win is refused before writing
    notes: list[str]
    dry_run: bool
    changed: bool
    hand_written: tuple[HandWritten, ...] = ()
    moved: bool = False


def _no_diff(_: str) -> None:
    return None


def _show(plan: InitPlan, planned: list[files.Planned], show_diff: Callable[[str], None]) -> None:
    if plan.new_key is not None:
        show_diff(
            f"--- /dev/null\n+++ {plan.key_path}\n+(new ed25519 private key, mode 0600, passphrase-protected; content not shown)\n"
            + files.diff(files.plan([files.FileChange(Path(str(plan.key_path) + ".pub"), plan.new_key.public_line.encode())])[0])
        )
    for p in planned:
        show_diff(files.diff(p))


def _confirm(plan: InitPlan, planned: list[files.Planned], opts: InitOptions, ask: Prompter | None) -> None:
    pending = plan.new_key is not None or any(p.verb is not files.Verb.IDENTICAL for p in planned)
    if pending and not opts.dry_run and not opts.yes:
        if ask is None:
            raise BadInput("sshsetup init needs confirmation to write", hint="re-run with --yes, or with --dry-run to only show the changes")
        if not ask.confirm("Write these changes?"):
            from click.exceptions import Abort

            raise Abort()


def _write(paths: Paths, plan: InitPlan, opts: InitOptions) -> tuple[list[files.Outcome], Contents]:
    """Under the lock: contents from the disk now, checked again if they changed, then all files or none."""
    with files.locked(paths.lock_file):
        for leftover in (paths.ssh_config, plan.key_path, paths.manifest, *(c.path for c in plan.changes)):
            files.remove_stale_temps(leftover)  # of runs that were killed; safe: we hold the lock
        contents = compute_contents(paths, plan, opts.vscode)  # from the bytes on disk now: never overwrite a concurrent edit
        if contents.config.new != plan.changes[0].new:
            check(paths, plan, contents)
        # the manifest right after the ssh config (which remove finds by its markers) and before the
        # files only the manifest can undo (VS Code settings): renamed in this order, after all are staged
        changes = contents.changes
        planned = files.plan([changes[0], _manifest_change(paths, plan, contents), *changes[1:]])
        created: list[Path] = []
        outcomes: list[files.Outcome] = []
        try:
            if plan.control_dir is not None:
                try:
                    created += files.ensure_dir(plan.control_dir)
                    plan.control_dir.chmod(0o700)
                except OSError as exc:
                    raise files.write_error(plan.control_dir, exc) from None
            if plan.new_key is not None:
                try:
                    created += files.ensure_dir(plan.key_path.parent)
                    keys.write_new_key(plan.key_path, plan.new_key)
                except OSError as exc:
                    raise files.write_error(plan.key_path, exc) from None
                outcomes.append(files.Outcome(plan.key_path, files.Verb.CREATE))
                outcomes.append(files.Outcome(Path(str(plan.key_path) + ".pub"), files.Verb.CREATE))
            outcomes += [o for o in files.apply(planned, dry_run=False) if o.path != paths.manifest]
        except BaseException:
            if outcomes:  # the key this run created: nothing else refers to it
                for o in outcomes:
                    o.path.unlink(missing_ok=True)
            files.remove_dirs(created)
            raise
    files.checkpoint("init-written")
    return outcomes, contents


def execute(paths: Paths, plan: InitPlan, opts: InitOptions, ask: Prompter | None, show_diff: Callable[[str], None]) -> InitResult:
    """Check with ssh, show the plan, confirm, then write: key first (O_EXCL), then the files, all or none."""
    contents = Contents(plan.changes, (), plan.vscode_records, plan.moved)
    check(paths, plan, contents)  # before the diff and the question: a refusal asks nothing and changes nothing
    planned = files.plan(list(plan.changes))
    if opts.yes and not opts.dry_run:  # scripted: stdout carries only the key line
        show_diff = _no_diff
    _show(plan, planned, show_diff)
    dropped = plan.dropped_line()
    if dropped is not None:
        from sshsetup import output

        output.say(dropped)  # stderr, before the question (and with --yes, before writing)
    _confirm(plan, planned, opts, ask)
    if opts.dry_run:
        outcomes = files.apply(planned, dry_run=True)
        if plan.new_key is not None:
            outcomes.insert(0, files.Outcome(plan.key_path, files.Verb.CREATE))
    else:
        outcomes, contents = _write(paths, plan, opts)
    fp = keys.fingerprint(plan.public_line)
    label = f"256 {fp} {plan.public_line.split(None, 2)[2].strip()} (ED25519)" if plan.new_key else (plan.key_info.keygen_line() if plan.key_info else fp)
    changed = any(o.verb in (files.Verb.CREATE, files.Verb.UPDATE, files.Verb.DELETE) for o in outcomes)
    notes = list(_merge_notes(plan.notes, contents.notes))
    return InitResult(outcomes, plan.new_key is not None, label, [], notes, opts.dry_run, changed, plan.hand_written, contents.moved)
