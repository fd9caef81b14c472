"""The bad-input catalogue: every refused input gets one line plus a hint,
the documented exit code, no traceback, and no file changed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import run_cli, snapshot

BEGIN = "# BEGIN sshsetup (managed)\n"


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    rc: int
    error: str  # the exact error line (after "error: ")
    setup: Callable[[Path], None] | None = None
    teardown: Callable[[Path], None] | None = None


def _cfg(data: bytes) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        (home / ".ssh" / "config").write_bytes(data)

    return setup


def _sites(text: str) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        (home / "sites.toml").write_text(text)

    return setup


def _rsa2048(home: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(home / "rsa")], check=True)


def _pw(text: str) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        (home / "pw").write_text(text)

    return setup


def _full_ssh_dir(home: Path) -> None:
    """Mount a 64 KiB tmpfs over ~/.ssh (keeping its files), then fill it up."""
    ssh = home / ".ssh"
    saved = {p.name: p.read_bytes() for p in ssh.iterdir()}
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(ssh)], capture_output=True, text=True)
    if r.returncode != 0:
        from tests.testbed.require import missing

        missing("a tmpfs mount for the full-disk case", r.stderr.strip())
    for name, data in saved.items():
        (ssh / name).write_bytes(data)
        (ssh / name).chmod(0o600)
    (ssh / "config").write_text("Host a\n  HostName a.org\n")
    fd = os.open(ssh / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 1024)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umount(home: Path) -> None:
    subprocess.run(["umount", str(home / ".ssh")], check=False)


def _chattr(path: Path, flag: str) -> None:
    r = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True) if shutil.which("chattr") else None
    if r is None or r.returncode != 0:  # not root, or not Linux: skip locally, fail under CI=true
        from tests.testbed.require import missing

        missing("chattr for the read-only cases", r.stderr.strip() if r else "chattr is not installed")


H = "{home}"
INIT = ("init", "--yes", "--user", "smith1")
KEYED = (*INIT, "--key", f"{H}/.ssh/id")
CASES = {
    "user-space": Case(("init", "--yes", "--user", "smith 1"), 2, "--user 'smith 1' is not a valid user name"),
    "user-newline": Case(("init", "--yes", "--user", "smith1\nHost *"), 2, "--user 'smith1\\nHost *' is not a valid user name"),
    "user-hash": Case(("init", "--yes", "--user", "smith#1"), 2, "--user smith#1 is not a valid user name"),
    "user-quote": Case(("init", "--yes", "--user", 'smith"1'), 2, "--user 'smith\"1' is not a valid user name"),
    "user-empty": Case(("init", "--yes", "--user", ""), 2, "--user '' is not a valid user name"),
    "user-missing": Case(("init", "--yes", "--key", f"{H}/.ssh/id"), 2, "--user is required"),
    "unknown-site": Case((*KEYED, "--site", "juwels"), 2, "unknown site 'juwels'"),
    "site-injection": Case((*KEYED, "--site", "jusuf\nHost *"), 2, "unknown site 'jusuf\\nHost *'"),
    "key-missing": Case((*INIT, "--key", f"{H}/nokey"), 2, f"key {H}/nokey does not exist"),
    "key-rsa2048": Case((*INIT, "--key", f"{H}/rsa"), 2, f"{H}/rsa is a 2048-bit RSA key; at least 3072 bits are needed", _rsa2048),
    "key-is-pub": Case((*INIT, "--key", f"{H}/.ssh/id.pub"), 2, f"{H}/.ssh/id.pub is a public key"),
    "passphrase-empty-jsc": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2,
                                 "JSC requires a passphrase on the private key; an empty passphrase is refused for JSC sites", _pw("\n")),
    "passphrase-short": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2, "the passphrase is shorter than 8 characters", _pw("abc\n")),
    "passphrase-file-missing": Case((*INIT, "--passphrase-file", f"{H}/nope"), 2, f"passphrase file {H}/nope does not exist"),
    "insecure-empty-for-jsc": Case((*INIT, "--insecure-empty-passphrase", "--passphrase-file", f"{H}/pw"), 2,
                                   "JSC requires a passphrase on the private key; an empty passphrase is refused for JSC sites", _pw("")),
    "config-utf16": Case(KEYED, 1, f"{H}/.ssh/config is UTF-16 encoded; sshsetup only edits UTF-8 files", _cfg("Host a\n".encode("utf-16"))),
    "config-bom": Case(KEYED, 1, f"{H}/.ssh/config starts with a UTF-8 byte-order mark, which ssh does not understand", _cfg(b"\xef\xbb\xbfHost a\n")),
    "config-nul": Case(KEYED, 1, f"{H}/.ssh/config contains NUL bytes; it is not a text file", _cfg(b"Host a\n\0\n")),
    "config-latin1": Case(KEYED, 1, f"{H}/.ssh/config is not valid UTF-8 (line 2)", _cfg(b"Host a\n# caf\xe9\n")),
    "markers-duplicated": Case(KEYED, 1, f"{H}/.ssh/config has more than one sshsetup block (line 1, line 2, line 3, line 4)",
                               _cfg(b"# BEGIN sshsetup\n# END sshsetup\n# BEGIN sshsetup\n# END sshsetup\n")),
    "markers-reversed": Case(KEYED, 1, f"{H}/.ssh/config: the sshsetup markers are reversed (line 1, line 2)",
                             _cfg(b"# END sshsetup\n# BEGIN sshsetup\n")),
    "markers-unclosed": Case(KEYED, 1, f"{H}/.ssh/config: the sshsetup block starting at line 2 is not closed",
                             _cfg(b"Host x\n# BEGIN sshsetup\n")),
    "remove-markers-unclosed": Case(("remove", "--yes"), 1, f"{H}/.ssh/config: the sshsetup block starting at line 1 is not closed",
                                    _cfg(b"# BEGIN sshsetup\nHost x\n")),
    "config-is-directory": Case(KEYED, 1, f"{H}/.ssh/config is a directory, not a file",
                                lambda h: (h / ".ssh" / "config").mkdir()),
    "config-symlink-loop": Case(KEYED, 1, f"{H}/.ssh/config is a symlink loop",
                                lambda h: ((h / ".ssh" / "config").symlink_to(h / ".ssh" / "loop"), (h / ".ssh" / "loop").symlink_to(h / ".ssh" / "config"))),
    "sites-file-missing": Case((*KEYED, "--sites-file", f"{H}/none.toml"), 2, f"sites file {H}/none.toml does not exist"),
    "sites-file-syntax": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                              f"{H}/sites.toml: Expected '=' after a key in a key/value pair (at line 2, column 6)", _sites("[sites.x]\nhost name = 1\n")),
    "sites-file-wildcard-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                      f"{H}/sites.toml:3: [sites.x] alias x* is not a valid ssh alias", _sites('[sites.x]\nhostname = "a.org"\nalias = "x*"\n')),
    "sites-file-bad-host": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                f"{H}/sites.toml:2: [sites.x] hostname -a.org is not a valid host name", _sites('[sites.x]\nhostname = "-a.org"\n')),
    "sites-file-hash-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                  f"{H}/sites.toml:3: [sites.x] alias a#b is not a valid ssh alias", _sites('[sites.x]\nhostname = "a.org"\nalias = "a#b"\n')),
    "sites-file-newline-name": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                    f"{H}/sites.toml:3: [sites.x] name contains the control character \\n",
                                    _sites('[sites.x]\nhostname = "a.org"\nname = "Evil\\nHost *\\n    ProxyCommand touch /tmp/x-%h\\n    ForwardAgent yes\\n#"\n')),
    "sites-file-esc-source": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                  f"{H}/sites.toml:3: [sites.x] name contains the control character \\x1b",
                                  _sites('[sites.x]\nhostname = "a.org"\nname = { value = "x", source = "\\u001b]52;c;AAAA\\u0007" }\n')),
    "sites-file-tab-partition": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                     f"{H}/sites.toml:3: [sites.x] gpu_partitions contains the control character \\t",
                                     _sites('[sites.x]\nhostname = "a.org"\ngpu_partitions = ["a\\tb"]\n')),
    "sites-file-c1-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                f"{H}/sites.toml:3: [sites.x] alias contains the control character \\x85",
                                _sites('[sites.x]\nhostname = "a.org"\nalias = "a\\u0085b"\n')),
    "sites-file-quote-partition": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                       f"{H}/sites.toml:3: [sites.x] gpu_partitions entry \"a';curl x|sh;'\" is not a valid partition name",
                                       _sites('[sites.x]\nhostname = "a.org"\ngpu_partitions = ["a\';curl x|sh;\'"]\n')),
    # key-line
    "from-prefix-33": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "1.2.3.4/33"), 2,
                           "--from '1.2.3.4/33': prefix length /33 is invalid for IPv4 (0-32)"),
    "from-hostname": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "example.org"), 2,
                          "--from 'example.org': hostnames are not allowed; JSC needs addresses or CIDRs"),
    "from-star": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "*"), 2,
                      "--from '*': wildcards are not allowed; give an address or CIDR"),
    "from-quote": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", '1.2.3.4"'), 2,
                       "--from '1.2.3.4\"': quotes are not allowed (sshsetup adds them)"),
    "from-comma": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "1.2.3.4,5.6.7.8"), 2,
                       "--from '1.2.3.4,5.6.7.8': one range per value; a comma would split it"),
    "from-everything": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "0.0.0.0/0"), 2,
                            "--from '0.0.0.0/0': too broad (wider than /8 for IPv4)"),
    "from-negation": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "!1.2.3.4"), 2,
                          "--from '!1.2.3.4': negation is not supported (it would deny, not allow)"),
    "from-empty": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", ""), 2, "--from '': empty value"),
    "keyline-bad-range": Case(("key-line", "--range", "8"), 2, ""),
    # jobscript
    "job-too-many-gpus": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--gpus-per-node", "5"), 2,
                              "--gpus-per-node 5 is more than the 4 GPUs of a JUWELS Booster node; allowed: 1 to 4"),
    "job-devel-too-long": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--partition", "develbooster",
                                "--time", "03:00:00"), 2,
                               "--time 03:00:00 is longer than the 02:00:00 limit of develbooster; allowed: up to 02:00:00"),
    "job-unknown-partition": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--partition", "batch"), 2,
                                  "partition 'batch' is not a GPU partition of JUWELS Booster; allowed: booster, develbooster"),
    "job-account-injection": Case(("jobscript", "--site", "juwels-booster", "--account", "my_proj;rm"), 2,
                                  "--account my_proj;rm is not a valid Slurm account"),
    "job-zero-nodes": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--nodes", "0"), 2,
                           "--nodes 0 is not possible; allowed: 1 or more"),
    "job-unknown-site": Case(("jobscript", "--site", "nowhere", "--account", "myproj"), 2, "unknown site 'nowhere'"),
    # other commands
    "vscode-no-workspace": Case(("vscode", "--workspace", f"{H}/nope", "--yes"), 2, f"workspace {H}/nope is not a directory"),
    "vscode-broken-tasks": Case(("vscode", "--workspace", f"{H}/ws", "--yes"), 1, "",
                                lambda h: ((h / "ws" / ".vscode").mkdir(parents=True), (h / "ws" / ".vscode" / "tasks.json").write_text('{"version": "2.0.0", "tasks": [,]}'))),
    "doctor-unknown-check": Case(("doctor", "no.such"), 2, "unknown check 'no.such'"),
    "explain-missing-file": Case(("explain", f"{H}/nope.log"), 2, f"{H}/nope.log does not exist"),
    "wait-zero-probes": Case(("wait", "--probes", "0"), 2, ""),
    "sites-broken-file": Case(("sites", "--sites-file", f"{H}/sites.toml"), 2, f"{H}/sites.toml:2: [sites.x] port must be an integer, not str",
                              _sites('[sites.x]\nport = "22"\nhostname = "a.org"\n')),
    "read-only-ssh-dir": Case(KEYED, 1, f"cannot write {H}/.ssh/config: operation not permitted",
                              lambda h: _chattr(h / ".ssh", "+i"), lambda h: _chattr(h / ".ssh", "-i")),
    "read-only-new-key": Case((*INIT, "--passphrase-file", f"{H}/pw", "--site", "jusuf"), 1,
                              f"cannot write {H}/.ssh/id_ed25519_jsc: operation not permitted",
                              lambda h: (_pw("a long passphrase\n")(h), _chattr(h / ".ssh", "+i")), lambda h: _chattr(h / ".ssh", "-i")),
    "disk-full": Case(KEYED, 1, f"cannot write {H}/.ssh/config: the disk is full", _full_ssh_dir, _umount),
    "unknown-option": Case(("init", "--frobnicate"), 2, ""),
    "bad-client": Case(("init", "--client", "putty"), 2, ""),
    "login-bad-duration": Case(("login", "--for", "8 hours"), 2, "--for '8 hours' is not a duration"),
    "config-usekeychain-on-linux": Case(KEYED, 1, f"ssh rejects {H}/.ssh/config, so sshsetup changed nothing: {H}/.ssh/config: line 2: "
                                        f"Bad configuration option: usekeychain; {H}/.ssh/config: terminating, 1 bad configuration options",
                                        _cfg(b"Host *\n  UseKeychain yes\n")),
    "config-course-placeholder": Case(KEYED, 1, f"ssh rejects {H}/.ssh/config, so sshsetup changed nothing: {H}/.ssh/config line 3: "
                                      f"keyword user extra arguments at end of line; {H}/.ssh/config: terminating, 1 bad configuration options",
                                      _cfg(b"Host booster\n  HostName juwels-booster.fz-juelich.de\n  User [ADD YOUR USERNAME HERE]\n")),
    "config-non-breaking-spaces": Case(KEYED, 1, f"ssh rejects {H}/.ssh/config, so sshsetup changed nothing: {H}/.ssh/config: line 2: "
                                       "Bad configuration option: \\302\\240\\302\\240hostname; "
                                       f"{H}/.ssh/config: terminating, 1 bad configuration options",
                                       _cfg("Host x\n\u00a0\u00a0HostName x.example.org\n".encode())),
    "doctor-report-missing-dir": Case(("doctor", "--report", f"{H}/nope/r.json", "--yes"), 2,
                                      f"cannot write the report to {H}/nope/r.json: the directory {H}/nope does not exist"),
    "doctor-report-over-config": Case(("doctor", "--report", f"{H}/.ssh/config", "--yes"), 1,
                                      f"{H}/.ssh/config exists and is not an sshsetup report; it was not changed",
                                      _cfg(b"Host x\n    User me\n")),
    "from-report-deep": Case(("doctor", "--from-report", f"{H}/r.json"), 2, f"{H}/r.json is nested too deeply to be an sshsetup report",
                             lambda h: (h / "r.json").write_text("[" * 100_000)),
    "from-report-wrong-type": Case(("doctor", "--from-report", f"{H}/r.json"), 2,
                                   f"{H}/r.json is not a valid sshsetup report: checks[0].status must be one of ok, warn, fail, skip",
                                   lambda h: (h / "r.json").write_text('{"sshsetup": "doctor-report", "version": 2, '
                                                                       '"checks": [{"id": "a", "status": 5, "summary": ""}]}')),
    "explain-binary": Case(("explain", f"{H}/core"), 2, f"{H}/core is not a text log (binary data)",
                           lambda h: (h / "core").write_bytes(bytes(range(256)) * 64)),
    "explain-directory": Case(("explain", H), 2, f"{H} is a directory"),
    # issue 12: passphrase files nobody could type at ssh's prompt, files that would hang, catch-all patterns
    "passphrase-nul": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2, f"passphrase file {H}/pw contains a NUL byte",
                           lambda h: (h / "pw").write_bytes(b"a long\0passphrase\n")),
    "passphrase-latin1": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2,
                              f"passphrase file {H}/pw is not valid UTF-8 (byte 4: 0xe9; Latin-1 or another legacy encoding?)",
                              lambda h: (h / "pw").write_bytes(b"caf\xe9 au lait\n")),
    "passphrase-1024-bytes": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2,
                                  f"passphrase file {H}/pw is 1024 bytes long; ssh reads at most 1023",
                                  lambda h: (h / "pw").write_bytes(b"x" * 1024 + b"\r\n")),
    "passphrase-huge-file": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2, f"passphrase file {H}/pw is larger than 64 KiB",
                                 lambda h: (h / "pw").write_bytes(b"x" * (64 * 1024 + 1))),
    "passphrase-fifo": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2, f"passphrase file {H}/pw is a named pipe (FIFO), not a regular file",
                            lambda h: os.mkfifo(h / "pw")),
    "passphrase-dev-zero": Case((*INIT, "--passphrase-file", "/dev/zero"), 2,
                                "passphrase file /dev/zero is a character device, not a regular file"),
    "sites-file-catch-all-pattern": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                         f"{H}/sites.toml:3: [sites.x] compute_node_pattern * is too broad: it must end in a fixed domain part",
                                         _sites('[sites.x]\nhostname = "a.org"\ncompute_node_pattern = "*"\n')),
    "sites-file-pattern-matches-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                             f"{H}/sites.toml:4: [sites.x] compute_node_pattern node*.x matches the alias node1.x of site 'x'",
                                             _sites('[sites.x]\nhostname = "a.org"\nalias = "node1.x"\ncompute_node_pattern = "node*.x"\n')),
    "drop-site-not-set-up": Case(("init", "--yes", "--user", "smith1", "--drop-site", "jureca-dc"), 2,
                                 "--drop-site jureca-dc: jureca-dc is not one of the sites being set up (juwels-booster, jusuf)"),
    "drop-site-every-site": Case(("init", "--yes", "--user", "smith1", "--drop-site", "jusuf", "--drop-site", "juwels-booster"), 2,
                                 "--drop-site would drop every site"),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=k) for k, c in CASES.items()])
def test_refused(case: Case, capsys: pytest.CaptureFixture[str], fake_home: Path) -> None:
    ssh = fake_home / ".ssh"
    ssh.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-f", str(ssh / "id")], check=True)
    try:
        if case.setup:
            case.setup(fake_home)
        before = snapshot(fake_home)
        args = [a.replace(H, str(fake_home)) for a in case.args]
        r = run_cli(capsys, *args)
        after = snapshot(fake_home)
    finally:
        if case.teardown:
            case.teardown(fake_home)
    assert r.rc == case.rc, r.err
    assert "Traceback" not in r.err + r.out
    lines = r.err.splitlines()
    if case.error:
        assert lines == [f"error: {case.error.replace(H, str(fake_home))}", lines[1]]
        assert lines[1].startswith("hint: ") and len(lines[1]) > 10
    elif case.rc == 2:  # click usage errors: its own usage line and a hint to --help
        assert "Error:" in r.err and "--help" in r.err
    else:
        assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    after.pop(".local/state/sshsetup/sshsetup.lock", None)  # sshsetup's own lock file (state dir), not a user file
    assert after == before
