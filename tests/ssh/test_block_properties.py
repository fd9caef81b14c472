"""Property tests for the managed ssh config block, checked with the real ``ssh -G``.

Random existing configs (comments, blank lines, LF/CRLF/mixed, tabs, ``Host *``, ``Match``,
an ``Include`` of a real generated file, global options before the first Host, ``Key=value``
and ``Key = value``, quoted values, with or without a final newline) meet random valid init
options (user names, catalogue sites, sites from a generated --sites-file with random aliases,
hostnames and ports, compute nodes on/off, client openssh/windows/auto). After ``init``:

* init succeeds: the block is at the very top, so no user line (global options, an Include,
  ``Host *`` or ``Match`` anywhere) can shadow it;
* the real ``ssh -T -G -F <config> <alias>`` shows exactly the intended HostName, User, Port and
  IdentityFile for each managed alias (and User/IdentityFile/ProxyJump for a compute node), and
  for *every* keyword the block sets the same values as the block alone (IdentityFile: ours first);
* ``ssh -G`` of every user alias (names the user's Host/Match lines reach, other than ours) prints
  exactly what it printed before init: the restoring ``Host *`` keeps the meaning of every user line;
* every byte outside the managed block is unchanged, and the block starts at byte 0;
* ``remove`` restores the original bytes exactly (or deletes a config init created).

Most examples call ``init``/``remove`` in-process (``build_plan``/``execute``/``remove.run``);
about one in four goes through the CLI (``tests.helpers.run_cli``). The pure ``upsert``/``remove``
functions get their own, cheaper property with many more examples.

Examples: ``SSHSETUP_HYPOTHESIS_EXAMPLES`` (default 100; the pure test runs 5x that);
the nightly size is ``SSHSETUP_HYPOTHESIS_EXAMPLES=10000``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from sshsetup import initplan as init_cmd
from sshsetup import removeplan as remove_cmd
from sshsetup.catalogue import DEFAULT_SITES, load_catalogue
from sshsetup.paths import Paths
from sshsetup.ssh import block as sshconfig
from sshsetup.ssh.block import HostEntry
from tests import strategies as S
from tests.helpers import environ, run_cli

EXAMPLES = S.env_examples(100)
_PHASES = [Phase.explicit, Phase.generate] if os.environ.get("SSHSETUP_HYPOTHESIS_NO_SHRINK") else list(Phase)
SSH_SETTINGS = settings(
    max_examples=EXAMPLES,
    phases=_PHASES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
PURE_SETTINGS = settings(SSH_SETTINGS, max_examples=EXAMPLES * 5)
CATALOGUE = load_catalogue(None, None)
PW_HOME = Paths.from_env({"HOME": "/nonexistent"}).pw_home
CRLF = b"\r\n"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Pre-made keys (ssh-keygen -a 2: fast), in directories with a space and with a '%'."""
    base = tmp_path_factory.mktemp("keys")
    out = []
    for sub in ("plain", "with space", "pct%d"):
        d = base / sub
        d.mkdir()
        k = d / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-C", "t@h", "-f", str(k)], check=True)
        out.append(k)
    return out


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("examples")


# ---------------------------------------------------------------- helpers


def ssh_g(config: Path, host: str) -> dict[str, str]:
    """First value of each keyword, as the real ssh client resolves ``host``."""
    proc = subprocess.run(["ssh", "-T", "-G", "-F", str(config), host], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"ssh -G {host} failed: {proc.stderr}"
    out: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        k, _, v = line.partition(" ")
        out.setdefault(k, v)
    return out


def ssh_dump(config: Path, host: str) -> dict[str, list[str]]:
    """Every value of each keyword, as the real ssh client resolves ``host``."""
    proc = subprocess.run(["ssh", "-T", "-G", "-F", str(config), host], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"ssh -G {host} failed: {proc.stderr}"
    out: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        k, _, v = line.partition(" ")
        out.setdefault(k, []).append(v)
    return out


USER_NAMES = ("github.com", "gw", "gw2", "a.corp", "x.corp", "nomatch.example", "other.example", "u-other", "jsc-other")
MULTI = ("identityfile", "certificatefile", "sendenv", "setenv")


def block_span(data: bytes) -> tuple[int, int]:
    """(start, end) byte offsets of the one managed block; found independently of sshsetup."""
    begins = [m.start() for m in re.finditer(rb"(?m)^# BEGIN sshsetup", data)]
    ends = [m for m in re.finditer(rb"(?m)^# END sshsetup[^\r\n]*(\r\n|\n)?", data)]
    assert len(begins) == 1 and len(ends) == 1, data
    return begins[0], ends[0].end()


def assert_outside_unchanged(old: bytes, new: bytes) -> tuple[int, int]:
    s, e = block_span(new)
    outside = new[:s] + new[e:]
    if outside != old:  # appended to a file without final newline: one line ending was added
        assert e == len(new) and old and not old.endswith((b"\n", b"\r")) and outside in (old + b"\n", old + b"\r\n"), (old, new)
    return s, e


def expected_sites(spec: S.InitSpec) -> list[tuple[str, str, int, str | None]]:
    """(alias, hostname, port, compute pattern) of each managed site, in order."""
    mine = {s.id: s for s in spec.file_sites}
    out = []
    for sid in spec.site_ids or DEFAULT_SITES:
        if sid in mine:
            s = mine[sid]
            out.append((s.effective_alias, s.hostname, s.port or 22, s.pattern))
        else:
            c = CATALOGUE[sid]
            out.append((c.alias, c.hostname, c.port, c.compute_node_pattern))
    return out


def same_address(host: str) -> str:
    """ssh prints an IPv4-mapped IPv6 HostName dotted or as plain IPv4: compare IPs as addresses."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip)


def concrete(pattern: str) -> str:
    return pattern.replace("*", "0129").replace("?", "q")


@contextlib.contextmanager
def example_dir(scratch: Path) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(dir=scratch))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


class Example:
    """One generated situation on disk: a HOME with (maybe) a config, an include file, a sites file."""

    def __init__(self, root: Path, spec: S.InitSpec, cfg: S.ConfigSpec, key: Path) -> None:
        self.root, self.spec, self.cfg, self.key = root, spec, cfg, key
        self.home = root / "home"
        (self.home / ".ssh").mkdir(parents=True, mode=0o700)
        self.config = self.home / ".ssh" / "config"
        self.include = root / "inc" / "extra.conf"
        self.include.parent.mkdir()
        self.include.write_bytes(cfg.include_bytes())
        self.original = cfg.render(str(self.include))
        if cfg.exists:
            self.config.write_bytes(self.original)
        toml = spec.sites_toml()
        self.sites_file: Path | None = None
        if toml is not None:
            self.sites_file = root / "sites.toml"
            self.sites_file.write_text(toml)
        self.paths = Paths(home=self.home, pw_home=PW_HOME, config_dir=root / "xdg-config" / "sshsetup", state_dir=root / "xdg-state" / "sshsetup")
        note(f"config:\n{self.original.decode()}\ninclude:\n{cfg.include_bytes().decode()}\nsites:\n{toml}")

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "USERPROFILE": str(self.home),
            "XDG_CONFIG_HOME": str(self.root / "xdg-config"),
            "XDG_STATE_HOME": str(self.root / "xdg-state"),
        }

    def user_names(self) -> list[str]:
        """Names the user's lines may reach that no managed entry matches (their ssh -G must not change)."""
        ours = [ln.split(None, 1)[1] for ln in self.config.read_text().split("# END sshsetup")[0].splitlines()
                if ln.startswith("Host ")] if self.config.exists() else []
        def managed(name: str) -> bool:
            return any(S.Setter("main", 0, "", "", tuple(p.split())).applies(name) for p in ours if p != "*")
        return [n for n in USER_NAMES if not managed(n)]

    def user_view(self, names: list[str]) -> dict[str, dict[str, list[str]]]:
        if not self.config.exists():
            return {}
        return {n: ssh_dump(self.config, n) for n in names}

    def check_every_option_wins(self) -> None:
        """For each managed name, every keyword of its entry resolves as from the block alone."""
        data = self.config.read_bytes()
        s, e = block_span(data)
        ref = self.root / "block-only.conf"
        ref.write_bytes(data[s:e])
        section: list[str] = []
        entries: list[tuple[str, list[str]]] = []
        for ln in data[s:e].decode().splitlines():
            if ln.startswith("Host "):
                section = []
                entries.append((ln[5:], section))
            elif ln.startswith("    "):
                section.append(ln.split()[0].lower())
        examples = {p: concrete(p) for p, _ in entries}
        for pattern, keywords in entries:
            if pattern == "*" or not keywords:
                continue
            name = examples[pattern]
            got, want = ssh_dump(self.config, name), ssh_dump(ref, name)
            for k in keywords:
                if k in MULTI:
                    assert got.get(k, [])[: len(want.get(k, []))] == want.get(k, []), (name, k, got.get(k), want.get(k))
                else:
                    assert got.get(k) == want.get(k), (name, k, got.get(k), want.get(k))

    def culprit(self, setter: S.Setter) -> str:
        if setter.where == "main":
            return f"{self.config}:{setter.line} (global options)"
        return f"{self.include}:{setter.line} ("

    def predicted_mismatches(self, spec: S.InitSpec) -> dict[tuple[str, str], str]:
        """(alias, keyword) -> culprit prefix, from the generator's model alone."""
        out = {}
        for alias, host, port, _ in expected_sites(spec):
            intended = {"hostname": host, "user": spec.user, "port": str(port), "identityfile": str(self.key)}
            for key in S.SHADOW_KEYS:
                setter = self.cfg.first_setter(alias, key)
                if setter is not None and setter.value.lower() != intended[key].lower():
                    out[(alias, key)] = self.culprit(setter)
        return out

    def check_with_ssh(self, spec: S.InitSpec) -> None:
        """The real ssh resolves every managed alias (and a compute node) as the model says."""
        compute = bool(spec.compute_nodes)
        for alias, host, port, pattern in expected_sites(spec):
            intended = {"hostname": host, "user": spec.user, "port": str(port), "identityfile": str(self.key)}
            names = [(alias, intended)]
            if compute and pattern:  # the compute entry pins User, IdentityFile and ProxyJump only
                node = concrete(pattern)
                names.append((node, {"user": spec.user, "identityfile": str(self.key), "proxyjump": alias}))
            for name, want in names:
                got = ssh_g(self.config, name)
                for key, value in want.items():
                    actual = got[key].replace("%%", "%") if key == "identityfile" else got[key]  # -G prints it raw
                    if key == "hostname":
                        actual, value = same_address(actual), same_address(value)
                    assert actual.lower() == value.lower(), (name, key, got[key], value)

    def check_bytes(self, spec: S.InitSpec, first: bool) -> None:
        new = self.config.read_bytes()
        s, e = assert_outside_unchanged(self.original, new)
        assert s == 0, "the block is not at the very top"
        block = new[s:e]
        if first and not self.original:  # a new (or empty) file: CRLF for the Windows client, else LF
            assert block.count(b"\r\n") == (block.count(b"\n") if spec.windows else 0)
        elif first and self.original.count(b"\r\n") * 2 > self.original.count(b"\n"):
            assert block.count(b"\r\n") == block.count(b"\n"), "the block does not use the file's CRLF"


def run_in_process(ex: Example, spec: S.InitSpec) -> dict[tuple[str, str], str]:
    opts = init_cmd.InitOptions(
        sites=spec.site_ids, user=spec.user, key=ex.key, sites_file=ex.sites_file if spec.file_sites else None,
        compute_nodes=spec.compute_nodes, client=spec.client, yes=True,
    )
    plan = init_cmd.build_plan(ex.paths, opts, None)
    res = init_cmd.execute(ex.paths, plan, opts, None, lambda _diff: None)
    return {(m.alias, m.keyword): m.culprit or "" for m in res.mismatches}  # always empty: nothing can shadow the block


def resolved(spec: S.InitSpec, earlier: S.InitSpec | None) -> S.InitSpec:
    """What init will use: options not given come from the block's remembered options."""
    return dataclasses.replace(
        spec,
        site_ids=spec.site_ids or (earlier.site_ids if earlier else DEFAULT_SITES),
        file_sites=spec.file_sites or (earlier.file_sites if earlier else ()),
        compute_nodes=spec.compute_nodes if spec.compute_nodes is not None else bool(earlier and earlier.compute_nodes),
    )


def check_init(ex: Example, raw: S.InitSpec, via_cli: bool, capsys: pytest.CaptureFixture[str],
               earlier: S.InitSpec | None = None) -> S.InitSpec:
    spec = resolved(raw, earlier)
    first = earlier is None
    shadowing = bool(ex.predicted_mismatches(spec))  # what once shadowed the block (below the global part)
    event(f"{'cli' if via_cli else 'in-process'}, {'first' if first else 'second'} run, user lines would once shadow: {shadowing}")
    if first:
        kind = "none" if not ex.cfg.exists else "crlf" if CRLF in ex.original else "lf"
        event(f"config: {kind}, include: {ex.cfg.include is not None}")
    names = ex.user_names()
    before = ex.user_view(names)
    if via_cli:
        with environ(ex.env()):
            r = run_cli(capsys, *raw.args(str(ex.key), str(ex.sites_file) if ex.sites_file and raw.file_sites else None))
        assert "Traceback" not in r.err
        assert r.rc == 0, r.err
        assert "error:" not in r.err
    else:
        assert run_in_process(ex, raw) == {}
    ex.check_with_ssh(spec)
    ex.check_every_option_wins()
    ex.check_bytes(spec, first)
    still = [n for n in before if n in ex.user_names()]  # a second run may manage other names
    after = ex.user_view(still) if before else {}
    assert after == {n: before[n] for n in still} if before else True, "a user alias resolves differently after init"
    return spec


def run_remove(ex: Example, via_cli: bool, capsys: pytest.CaptureFixture[str]) -> None:
    if via_cli:
        with environ(ex.env()):
            r = run_cli(capsys, "remove", "--yes")
        assert r.rc == 0, r.err
    else:
        remove_cmd.run(ex.paths, dry_run=False, yes=True, confirm=None, show_diff=lambda _d: None)
    if ex.cfg.exists:
        assert ex.config.read_bytes() == ex.original
    else:
        assert not ex.config.exists()


# ---------------------------------------------------------------- the properties


@SSH_SETTINGS
@given(
    scenario=S.scenarios(),
    second=st.none() | S.init_specs(),
    via_cli=st.integers(0, 3).map(lambda n: n == 0),
    key_no=st.integers(0, 2),
)
def test_init_then_ssh_g_then_remove(
    scenario: tuple[S.InitSpec, S.ConfigSpec], second: S.InitSpec | None, via_cli: bool, key_no: int,
    keys: list[Path], scratch: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    spec, cfg = scenario
    with example_dir(scratch) as root:
        ex = Example(root, spec, cfg, keys[key_no])
        done = check_init(ex, spec, via_cli, capsys)
        if ex.cfg.exists:  # a backup holds the old bytes
            backups = list(ex.config.parent.glob("config.sshsetup-backup-*"))
            assert [b.read_bytes() for b in backups] == [ex.original]
        if second is not None and not second.file_sites:  # a re-run with other options replaces the block
            check_init(ex, second, via_cli, capsys, earlier=done)
        run_remove(ex, via_cli, capsys)


def _entries(draw: st.DrawFn) -> list[HostEntry]:
    n = draw(st.integers(1, 3))
    return [
        HostEntry(f"h{i}", (("HostName", f"h{i}.example.org"), ("User", draw(S.users))), comment=draw(st.sampled_from(["", "c"])))
        for i in range(n)
    ]


@st.composite
def pure_cases(draw: st.DrawFn) -> tuple[str, str, list[HostEntry], list[HostEntry], str]:
    """(text before, text after an existing block or '', entries, other entries, eol)."""
    if draw(st.booleans()):
        spec, cfg = draw(S.scenarios())
        text = cfg.render("/etc/ssh/extra.conf").decode()
    else:
        text = draw(S.raw_texts())
    tail = ""
    if draw(st.integers(0, 3)) == 0:  # an existing block somewhere at a line start
        tail = draw(S.raw_texts())
        if text and not text.endswith("\n"):
            text += "\n"
    return text, tail, _entries(draw), _entries(draw), draw(st.sampled_from(["\n", "\r\n"]))


@PURE_SETTINGS
@given(case=pure_cases())
def test_upsert_and_remove_pure(case: tuple[str, str, list[HostEntry], list[HostEntry], str]) -> None:
    head, tail, entries, other, eol = case
    path = Path("/home/u/.ssh/config")
    opts = {"sites": ["x"], "user": "u"}
    if tail:  # a block in the middle (an earlier placement): upsert moves it to the top, remove takes exactly it out
        existing = sshconfig.render_block(other, opts, eol)
        text = head + existing + tail
        assert sshconfig.needs_move(text, path) == bool(head)
        new = sshconfig.upsert(text, entries, opts, eol, path)
        assert new == sshconfig.render_block(entries, opts, eol) + head + tail
        assert sshconfig.remove(new, path) == head + tail
        assert sshconfig.remove(text, path) == head + tail
        return
    text = head
    new = sshconfig.upsert(text, entries, opts, eol, path)
    s, e = assert_outside_unchanged(text.encode(), new.encode())
    assert s == 0 and new.endswith(text)  # at the very top, the user's text follows byte for byte
    assert new[: len(new) - len(text)].split(eol)[-3:] == ["Host *", "# END sshsetup", ""]  # global context again
    assert sshconfig.upsert(new, entries, opts, eol, path) == new  # idempotent
    assert sshconfig.remove(new, path) == text
    changed = sshconfig.upsert(new, other, {"sites": ["y"]}, eol, path)
    assert_outside_unchanged(text.encode(), changed.encode())
    assert sshconfig.remove(changed, path) == text
    assert sshconfig.find_block(changed, path) is not None


# ---------------------------------------------------------------- regressions found by the properties


def test_mixed_case_hostname_and_percent_in_key_path_verify(capsys: pytest.CaptureFixture[str], fake_home: Path, keys: list[Path], tmp_path: Path) -> None:
    """ssh lower-cases HostName and prints IdentityFile raw ('%%'); both once gave a false 'ssh does not see'."""
    sf = tmp_path / "sites.toml"
    sf.write_text('[sites.up]\nhostname = "Login.Example.ORG"\n')
    r = run_cli(capsys, "init", "--yes", "--user", "me", "--key", str(keys[2]), "--sites-file", str(sf), "--site", "up")
    assert r.rc == 0, r.err
    assert "Checked with ssh -G: up resolves as intended." in r.err
    g = ssh_g(fake_home / ".ssh" / "config", "up")
    assert (g["hostname"], g["identityfile"].replace("%%", "%")) == ("login.example.org", str(keys[2]))


@pytest.mark.parametrize("name", ["0", "1.2.3", "0x7f.1", "010.0.0.1"])
def test_ipv4_short_forms_are_refused(name: str, capsys: pytest.CaptureFixture[str], fake_home: Path, keys: list[Path], tmp_path: Path) -> None:
    """ssh -G turns HostName '0' into 0.0.0.0 and '1.2.3' into 1.2.0.3 (inet_aton): not a DNS name."""
    sf = tmp_path / "sites.toml"
    sf.write_text(f'[sites.n]\nhostname = "{name}"\n')
    r = run_cli(capsys, "init", "--yes", "--user", "me", "--key", str(keys[0]), "--sites-file", str(sf), "--site", "n")
    assert r.rc == 2 and "is an IPv4 address in a short or octal/hex form" in r.err.splitlines()[0], r.err
    assert not (fake_home / ".ssh" / "config").exists()


def test_ipv6_zone_id_is_refused(capsys: pytest.CaptureFixture[str], fake_home: Path, keys: list[Path], tmp_path: Path) -> None:
    """'fe80::1%eth0' is a valid Python IP address but a broken %-token for ssh: refuse it, write nothing."""
    sf = tmp_path / "sites.toml"
    sf.write_text('[sites.v6]\nhostname = "fe80::1%eth0"\n')
    r = run_cli(capsys, "init", "--yes", "--user", "me", "--key", str(keys[0]), "--sites-file", str(sf), "--site", "v6")
    assert r.rc == 2
    assert r.err.splitlines()[0] == f"error: {sf}:2: [sites.v6] hostname fe80::1%eth0 is not a valid host name"
    assert not (fake_home / ".ssh" / "config").exists()


def test_ipv6_literal_site_is_not_forced_to_ipv4(capsys: pytest.CaptureFixture[str], fake_home: Path, keys: list[Path], tmp_path: Path) -> None:
    sf = tmp_path / "sites.toml"
    sf.write_text('[sites.v6]\nhostname = "2001:db8::1"\n')
    r = run_cli(capsys, "init", "--yes", "--user", "me", "--key", str(keys[0]), "--sites-file", str(sf), "--site", "v6")
    assert r.rc == 0, r.err
    assert ssh_g(fake_home / ".ssh" / "config", "v6")["addressfamily"] != "inet"
