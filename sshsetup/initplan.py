"""``sshsetup init``: key, managed ssh config block, (later) VS Code; then the key line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sshsetup import files, state, textfile
from sshsetup.catalogue import DEFAULT_SITES, Site, load_catalogue, select
from sshsetup.errors import BadInput
from sshsetup.judoor.keyline import KeyLine, KeyLineOptions, address_family, compute, load_named
from sshsetup.paths import Paths
from sshsetup.ssh import block as sshconfig
from sshsetup.ssh import keys, passphrase
from sshsetup.ssh.block import HostEntry
from sshsetup.ssh.entries import EntryOptions, control_dir_fits, site_entries
from sshsetup.ssh.verify import Expected, Mismatch, verify


@dataclass(frozen=True)
class Prompter:
    confirm: Callable[[str], bool]
    text: Callable[[str], str]
    new_secret: Callable[[], str]  # asks twice


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


@dataclass
class InitPlan:
    sites: list[Site]
    user: str
    key_path: Path
    new_key: keys.NewKey | None
    key_info: keys.KeyInfo | None
    public_line: str
    key_line: KeyLine
    changes: list[files.FileChange] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    control_dir: Path | None = None
    options: dict[str, object] = field(default_factory=dict)
    vscode_records: dict[str, object] = field(default_factory=dict)
    entries: list[HostEntry] = field(default_factory=list)
    windows: bool = False
    install_paths: dict[str, str | None] = field(default_factory=dict)


def windows_client(client: str) -> bool:
    if client == "windows":
        return True
    if client == "openssh":
        return False
    return sys.platform == "win32"


def read_config_text(paths: Paths) -> tuple[textfile.TextDoc | None, bytes | None]:
    old = files.read_bytes(paths.ssh_config)
    if old is None:
        return None, None
    return textfile.decode(old, paths.ssh_config, allow_bom=False), old


def _resolve_user(opts: InitOptions, remembered: dict[str, object], sites: list[Site], ask: Prompter | None) -> str:
    user = opts.user if opts.user is not None else (str(remembered["user"]) if remembered.get("user") else None)
    if user is None and all(s.get("user") for s in sites):
        user = str(sites[0].get("user"))
    if user is None:
        if ask is None:
            raise BadInput("--user is required", hint="pass your JSC user name (shown in JuDoor), e.g. --user smith1")
        user = ask.text("Your JSC user name (as shown in JuDoor)").strip()
    from sshsetup import validate

    return validate.user(user)


def build_plan(paths: Paths, opts: InitOptions, ask: Prompter | None) -> InitPlan:
    doc, _ = read_config_text(paths)
    remembered = sshconfig.remembered_options(doc.text, paths.ssh_config) if doc else {}
    sites_file = opts.sites_file or (Path(str(remembered["sites_file"])) if remembered.get("sites_file") else None)
    if sites_file is not None and not sites_file.is_absolute():
        sites_file = Path.cwd() / sites_file
    catalogue = load_catalogue(sites_file, paths.sites_file)
    site_ids = opts.sites or tuple(remembered.get("sites", ())) or DEFAULT_SITES
    sites = select(catalogue, site_ids)
    user = _resolve_user(opts, remembered, sites, ask)
    key_path = opts.key or (Path(str(remembered["key"])) if remembered.get("key") else paths.default_key)
    key_path = key_path if key_path.is_absolute() else (Path.cwd() / key_path)
    jsc = any(s.is_jsc for s in sites)
    new_key = None
    info = None
    notes: list[str] = []
    if key_path.exists() or opts.key is not None:
        info = keys.inspect_key(key_path)
        if info.encrypted is False:
            notes.append(f"warning: {key_path} has no passphrase; JSC requires an encrypted private key (ssh-keygen -p -f {key_path})")
    else:
        prompt = ask.new_secret if ask is not None else None
        pw = passphrase.obtain(opts.passphrase_file, prompt, jsc=jsc, allow_empty=opts.insecure_empty_passphrase)
        import getpass  # only for a new key's comment: socket alone costs a dry run ~2 ms
        import socket

        comment = f"{getpass.getuser()}@{socket.gethostname().split('.')[0]}"
        new_key = keys.generate(pw or None, comment)
    compute_nodes = opts.compute_nodes if opts.compute_nodes is not None else bool(remembered.get("compute_nodes", False))
    win = windows_client(opts.client)
    control_real = paths.ssh_dir / "cm"
    control_dir: Path | None = None
    if not win:
        if control_dir_fits(control_real):
            control_dir = control_real
        else:
            notes.append(f"note: no ControlMaster: the socket path under {control_real} would exceed 108 bytes")
    pub_line = new_key.public_line if new_key else (f"{info.public_line} {info.comment}".strip() + "\n" if info else "")
    from sshsetup.judoor import cidr

    kl_opts = KeyLineOptions(opts.from_ranges, cidr.parse_policy(opts.policy), None, 2.0, paths.state_dir / "rdap")
    key_line = compute(pub_line.strip(), kl_opts, load_named(paths.config_dir / "ranges.json"), compute_nodes)
    eo = EntryOptions(
        user=user,
        identity_file=paths.ssh_tilde(key_path),
        windows_client=win,
        macos_keychain=opts.client == "macos" or (opts.client == "auto" and sys.platform == "darwin"),
        control_dir=paths.ssh_tilde(control_dir) if control_dir else None,
        compute_nodes=compute_nodes,
        address_family={s.alias: address_family(s, key_line) for s in sites},
    )
    entries = site_entries(sites, eo)
    options: dict[str, object] = {"sites": [s.id for s in sites], "user": user, "key": str(key_path), "compute_nodes": compute_nodes}
    if opts.client != "auto":
        options["client"] = opts.client
    if sites_file is not None:
        options["sites_file"] = str(sites_file)
    expected = [
        Expected(s.alias, {"hostname": s.hostname, "user": user, "port": str(s.port), "identityfile": paths.ssh_tilde(key_path)})
        for s in sites
    ]
    if compute_nodes:  # a compute node must reach the cluster through our login alias, as our user
        expected += [
            Expected(str(s.get("compute_node_example")), {"proxyjump": s.alias, "user": user})
            for s in sites
            if s.compute_node_pattern and s.get("compute_node_example")
        ]
    plan = InitPlan(sites, user, key_path, new_key, info, pub_line, key_line, [], expected, notes, control_dir, options)
    plan.entries, plan.windows = entries, win
    if opts.vscode:
        from sshsetup.vscode import settings_plan as init_vscode

        cfg = None if paths.ssh_uses_default_config else paths.ssh_config
        plan.install_paths, more = init_vscode.project_dirs(sites, user, opts.project_dir, opts.account, cfg)
        plan.notes += more
    compute_contents(paths, plan, opts.vscode)
    return plan


def compute_contents(paths: Paths, plan: InitPlan, vscode: bool) -> None:
    """The new bytes of every file, from what is on disk now (again under the lock, before writing)."""
    doc, _ = read_config_text(paths)
    eol = doc.eol if doc and doc.text else ("\r\n" if plan.windows else "\n")
    block_opts = {**plan.options, "created": True} if doc is None else plan.options  # created: remove deletes the file
    new_text = sshconfig.upsert(doc.text if doc else "", plan.entries, block_opts, eol, paths.ssh_config)
    plan.changes = [files.FileChange(paths.ssh_config, new_text.encode("utf-8"), mode=0o600, label="ssh config")]
    if vscode:
        from sshsetup.vscode import settings_plan as init_vscode

        vs = init_vscode.plan(paths, plan.sites, windows_client=plan.windows, install_paths=plan.install_paths,
                              manifest=state.load(paths.manifest))
        plan.changes += vs.changes
        if vs.notes and vs.notes[0] not in plan.notes:
            plan.notes += vs.notes
        plan.vscode_records = vs.records


def _manifest_change(paths: Paths, plan: InitPlan) -> files.FileChange:
    doc = state.load(paths.manifest)
    doc["ssh_config"] = str(paths.ssh_config)
    if plan.control_dir is not None:
        state.add_unique(doc, "control_dirs", str(plan.control_dir))
    state.add_unique(doc, "keys", str(plan.key_path))
    if plan.vscode_records:
        doc.setdefault("vscode_settings", {}).update(plan.vscode_records)
    return state.change(paths.manifest, doc)


def verify_config(paths: Paths, plan: InitPlan) -> list[Mismatch]:
    return verify(plan.expected, paths.ssh_config, not paths.ssh_uses_default_config, paths.pw_home, paths.ssh_dir)


@dataclass(frozen=True)
class InitResult:
    outcomes: list[files.Outcome]
    key_created: bool
    fingerprint_line: str
    mismatches: list[Mismatch]
    notes: list[str]
    dry_run: bool
    changed: bool


def _no_diff(_: str) -> None:
    return None


def execute(paths: Paths, plan: InitPlan, opts: InitOptions, ask: Prompter | None, show_diff: Callable[[str], None]) -> InitResult:
    """Show the plan, confirm, then write: key first (O_EXCL), then the files."""
    changes = list(plan.changes)
    planned = files.plan(changes)
    if opts.yes and not opts.dry_run:  # scripted: stdout carries only the key line
        show_diff = _no_diff
    if plan.new_key is not None:
        show_diff(
            f"--- /dev/null\n+++ {plan.key_path}\n+(new ed25519 private key, mode 0600, passphrase-protected; content not shown)\n"
            + files.diff(files.plan([files.FileChange(Path(str(plan.key_path) + ".pub"), plan.new_key.public_line.encode())])[0])
        )
    for p in planned:
        show_diff(files.diff(p))
    pending = plan.new_key is not None or any(p.verb is not files.Verb.IDENTICAL for p in planned)
    if pending and not opts.dry_run and not opts.yes:
        if ask is None:
            raise BadInput("sshsetup init needs confirmation to write", hint="re-run with --yes, or with --dry-run to only show the changes")
        if not ask.confirm("Write these changes?"):
            from click.exceptions import Abort

            raise Abort()
    outcomes: list[files.Outcome] = []
    mismatches: list[Mismatch] = []
    if opts.dry_run:
        outcomes = files.apply(planned, dry_run=True)
        if plan.new_key is not None:
            outcomes.insert(0, files.Outcome(plan.key_path, files.Verb.CREATE))
    else:
        with files.locked(paths.lock_file):
            for leftover in (paths.ssh_config, plan.key_path, paths.manifest, *(c.path for c in plan.changes)):
                files.remove_stale_temps(leftover)  # of runs that were killed; safe: we hold the lock
            if plan.control_dir is not None:
                try:
                    plan.control_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                    plan.control_dir.chmod(0o700)
                except OSError as exc:
                    raise files.write_error(plan.control_dir, exc) from None
            if plan.new_key is not None:
                try:
                    keys.write_new_key(plan.key_path, plan.new_key)
                except OSError as exc:
                    raise files.write_error(plan.key_path, exc) from None
                outcomes.append(files.Outcome(plan.key_path, files.Verb.CREATE))
                outcomes.append(files.Outcome(Path(str(plan.key_path) + ".pub"), files.Verb.CREATE))
            # the manifest right after the ssh config (changes[0], which remove finds by its markers) and
            # before the files only the manifest can undo (VS Code settings): a crash never leaves those
            # changed but unrecorded, and a refused config write still leaves every file unchanged
            compute_contents(paths, plan, opts.vscode)  # from the bytes on disk now: never overwrite a concurrent edit
            changes = list(plan.changes)
            manifest = _manifest_change(paths, plan)
            planned = files.plan(changes[:1] + [manifest] + changes[1:])
            outcomes += [o for o in files.apply(planned, dry_run=False) if o.path != paths.manifest]
            mismatches = verify_config(paths, plan)  # under the lock: what this run wrote, not a later run's
        files.checkpoint("init-written")
    fp = keys.fingerprint(plan.public_line)
    label = f"256 {fp} {plan.public_line.split(None, 2)[2].strip()} (ED25519)" if plan.new_key else (plan.key_info.keygen_line() if plan.key_info else fp)
    changed = any(o.verb in (files.Verb.CREATE, files.Verb.UPDATE, files.Verb.DELETE) for o in outcomes)
    return InitResult(outcomes, plan.new_key is not None, label, mismatches, plan.notes, opts.dry_run, changed)
