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

from tests.helpers import run_cli, snapshot, without_own_lock

BEGIN = "# BEGIN sshsetup (managed)\n"


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    rc: int
    error: str  # the exact error line (after "error: "); click's usage errors: after "Error: "
    hint: str  # the exact hint line (after "hint: "); click's usage errors: its "Try 'sshsetup CMD --help' for help."
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


def _manifest(text: str) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        state = home / ".local" / "state" / "sshsetup"
        state.mkdir(parents=True, exist_ok=True)
        (state / "manifest.json").write_text(text)

    return setup


def _pem_with_bad_pub(home: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-m", "PEM", "-N", "", "-f", str(home / "pem")], check=True)
    (home / "pem.pub").write_text("ecdsa-sha2-nistp256 not*base64 me@laptop\n")


def _read_only_settings(home: Path) -> None:
    user = home / ".config" / "Code" / "User"
    user.mkdir(parents=True)
    (user / "settings.json").write_text('{"editor.fontSize": 14}\n')
    (user / "settings.json").chmod(0o444)


def _hard_linked_config(home: Path) -> None:
    (home / "dotfiles").mkdir()
    (home / "dotfiles" / "ssh_config").write_text("Host a\n  HostName a.org\n")
    os.link(home / "dotfiles" / "ssh_config", home / ".ssh" / "config")


H = "{home}"
INIT = ("init", "--yes", "--user", "smith1")
KEYED = (*INIT, "--key", f"{H}/.ssh/id")
CASES = {
    "user-space": Case(("init", "--yes", "--user", "smith 1"), 2, "--user 'smith 1' is not a valid user name",
                       "use your JSC user name as shown in JuDoor (letters, digits, '_', '.', '-'; no spaces or quotes)"),
    "user-newline": Case(("init", "--yes", "--user", "smith1\nHost *"), 2, "--user 'smith1\\nHost *' is not a valid user name",
                         "use your JSC user name as shown in JuDoor (letters, digits, '_', '.', '-'; no spaces or quotes)"),
    "user-hash": Case(("init", "--yes", "--user", "smith#1"), 2, "--user smith#1 is not a valid user name",
                      "use your JSC user name as shown in JuDoor (letters, digits, '_', '.', '-'; no spaces or quotes)"),
    "user-quote": Case(("init", "--yes", "--user", 'smith"1'), 2, "--user 'smith\"1' is not a valid user name",
                       "use your JSC user name as shown in JuDoor (letters, digits, '_', '.', '-'; no spaces or quotes)"),
    "user-empty": Case(("init", "--yes", "--user", ""), 2, "--user '' is not a valid user name",
                       "use your JSC user name as shown in JuDoor (letters, digits, '_', '.', '-'; no spaces or quotes)"),
    "user-missing": Case(("init", "--yes", "--key", f"{H}/.ssh/id"), 2, "--user is required",
                         "pass your JSC user name (shown in JuDoor), e.g. --user smith1"),
    "unknown-site": Case((*KEYED, "--site", "juwels"), 2, "unknown site 'juwels'",
                         "known sites: judac, jupiter, jureca-dc, jusuf, juwels-booster, juwels-cluster"),
    "site-injection": Case((*KEYED, "--site", "jusuf\nHost *"), 2, "unknown site 'jusuf\\nHost *'",
                           "known sites: judac, jupiter, jureca-dc, jusuf, juwels-booster, juwels-cluster"),
    "key-missing": Case((*INIT, "--key", f"{H}/nokey"), 2, f"key {H}/nokey does not exist",
                        "give the private key file (not the .pub) with --key"),
    "key-rsa2048": Case((*INIT, "--key", f"{H}/rsa"), 2, f"{H}/rsa is a 2048-bit RSA key; at least 3072 bits are needed",
                        "let sshsetup create an ed25519 key (omit --key)", _rsa2048),
    "key-is-pub": Case((*INIT, "--key", f"{H}/.ssh/id.pub"), 2, f"{H}/.ssh/id.pub is a public key",
                       "give the private key file with --key (without .pub)"),
    "passphrase-empty-jsc": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2,
                                 "JSC requires a passphrase on the private key; an empty passphrase is refused for JSC sites",
                                 "choose a passphrase (an ssh-agent saves retyping it)", _pw("\n")),
    "passphrase-short": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2, "the passphrase is shorter than 8 characters",
                             "JSC asks for a secure passphrase: use a longer one", _pw("abc\n")),
    "passphrase-file-missing": Case((*INIT, "--passphrase-file", f"{H}/nope"), 2, f"passphrase file {H}/nope does not exist",
                                    "check the path (it must be an existing file)"),
    "insecure-empty-for-jsc": Case((*INIT, "--insecure-empty-passphrase", "--passphrase-file", f"{H}/pw"), 2,
                                   "JSC requires a passphrase on the private key; an empty passphrase is refused for JSC sites",
                                   "choose a passphrase (an ssh-agent saves retyping it)", _pw("")),
    "config-utf16": Case(KEYED, 1, f"{H}/.ssh/config is UTF-16 encoded; sshsetup only edits UTF-8 files",
                         f"convert it to UTF-8 without BOM (ssh cannot read UTF-16 either), e.g. in VS Code: 'Save with Encoding' > UTF-8: {H}/.ssh/config", _cfg("Host a\n".encode("utf-16"))),
    "config-bom": Case(KEYED, 1, f"{H}/.ssh/config starts with a UTF-8 byte-order mark, which ssh does not understand",
                       f"save it as UTF-8 without BOM, then run sshsetup again: {H}/.ssh/config", _cfg(b"\xef\xbb\xbfHost a\n")),
    "config-nul": Case(KEYED, 1, f"{H}/.ssh/config contains NUL bytes; it is not a text file",
                       f"check the file by hand: {H}/.ssh/config", _cfg(b"Host a\n\0\n")),
    "config-latin1": Case(KEYED, 1, f"{H}/.ssh/config is not valid UTF-8 (line 2)",
                          f"re-save it as UTF-8, then run sshsetup again: {H}/.ssh/config", _cfg(b"Host a\n# caf\xe9\n")),
    "markers-duplicated": Case(KEYED, 1, f"{H}/.ssh/config has more than one sshsetup block (line 1, line 2, line 3, line 4)",
                               f"fix or delete the sshsetup marker lines in {H}/.ssh/config by hand (line 1, line 2, line 3, line 4), then run sshsetup again",
                               _cfg(b"# BEGIN sshsetup\n# END sshsetup\n# BEGIN sshsetup\n# END sshsetup\n")),
    "markers-reversed": Case(KEYED, 1, f"{H}/.ssh/config: the sshsetup markers are reversed (line 1, line 2)",
                             f"fix or delete the sshsetup marker lines in {H}/.ssh/config by hand (line 1, line 2), then run sshsetup again",
                             _cfg(b"# END sshsetup\n# BEGIN sshsetup\n")),
    "markers-unclosed": Case(KEYED, 1, f"{H}/.ssh/config: the sshsetup block starting at line 2 is not closed",
                             f"fix or delete the sshsetup marker lines in {H}/.ssh/config by hand (line 2), then run sshsetup again",
                             _cfg(b"Host x\n# BEGIN sshsetup\n")),
    "remove-markers-unclosed": Case(("remove", "--yes"), 1, f"{H}/.ssh/config: the sshsetup block starting at line 1 is not closed",
                                    f"fix or delete the sshsetup marker lines in {H}/.ssh/config by hand (line 1), then run sshsetup again",
                                    _cfg(b"# BEGIN sshsetup\nHost x\n")),
    "config-is-directory": Case(KEYED, 1, f"{H}/.ssh/config is a directory, not a file",
                                f"move it away: mv {H}/.ssh/config {H}/.ssh/config.dir",
                                lambda h: (h / ".ssh" / "config").mkdir()),
    "config-symlink-loop": Case(KEYED, 1, f"{H}/.ssh/config is a symlink loop",
                                f"fix or remove the link: ls -l {H}/.ssh/config",
                                lambda h: ((h / ".ssh" / "config").symlink_to(h / ".ssh" / "loop"), (h / ".ssh" / "loop").symlink_to(h / ".ssh" / "config"))),
    "sites-file-missing": Case((*KEYED, "--sites-file", f"{H}/none.toml"), 2, f"sites file {H}/none.toml does not exist",
                               "check the path given with --sites-file"),
    "sites-file-syntax": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                              f"{H}/sites.toml: Expected '=' after a key in a key/value pair (at line 2, column 6)",
                              "fix the TOML syntax (see https://toml.io)", _sites("[sites.x]\nhost name = 1\n")),
    "sites-file-wildcard-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                      f"{H}/sites.toml:3: [sites.x] alias x* is not a valid ssh alias",
                                      "use letters, digits, '.', '_' and '-' only (no wildcards, spaces, '#' or quotes)", _sites('[sites.x]\nhostname = "a.org"\nalias = "x*"\n')),
    "sites-file-bad-host": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                f"{H}/sites.toml:2: [sites.x] hostname -a.org is not a valid host name",
                                "give a DNS name such as login.example.org or an IP address", _sites('[sites.x]\nhostname = "-a.org"\n')),
    "sites-file-hash-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                  f"{H}/sites.toml:3: [sites.x] alias a#b is not a valid ssh alias",
                                  "use letters, digits, '.', '_' and '-' only (no wildcards, spaces, '#' or quotes)", _sites('[sites.x]\nhostname = "a.org"\nalias = "a#b"\n')),
    "sites-file-newline-name": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                    f"{H}/sites.toml:3: [sites.x] name contains the control character \\n",
                                    "a sites file value must be a single line of printable text; remove the character",
                                    _sites('[sites.x]\nhostname = "a.org"\nname = "Evil\\nHost *\\n    ProxyCommand touch /tmp/x-%h\\n    ForwardAgent yes\\n#"\n')),
    "sites-file-esc-source": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                  f"{H}/sites.toml:3: [sites.x] name contains the control character \\x1b",
                                  "a sites file value must be a single line of printable text; remove the character",
                                  _sites('[sites.x]\nhostname = "a.org"\nname = { value = "x", source = "\\u001b]52;c;AAAA\\u0007" }\n')),
    "sites-file-tab-partition": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                     f"{H}/sites.toml:3: [sites.x] gpu_partitions contains the control character \\t",
                                     "a sites file value must be a single line of printable text; remove the character",
                                     _sites('[sites.x]\nhostname = "a.org"\ngpu_partitions = ["a\\tb"]\n')),
    "sites-file-c1-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                f"{H}/sites.toml:3: [sites.x] alias contains the control character \\x85",
                                "a sites file value must be a single line of printable text; remove the character",
                                _sites('[sites.x]\nhostname = "a.org"\nalias = "a\\u0085b"\n')),
    "sites-file-quote-partition": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                       f"{H}/sites.toml:3: [sites.x] gpu_partitions entry \"a';curl x|sh;'\" is not a valid partition name",
                                       "a Slurm partition name has letters, digits, '_', '.', '-' only (list them on the cluster: sinfo -s)",
                                       _sites('[sites.x]\nhostname = "a.org"\ngpu_partitions = ["a\';curl x|sh;\'"]\n')),
    # key-line
    "from-prefix-33": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "1.2.3.4/33"), 2,
                           "--from '1.2.3.4/33': prefix length /33 is invalid for IPv4 (0-32)",
                           "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"),
    "from-hostname": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "example.org"), 2,
                          "--from 'example.org': hostnames are not allowed; JSC needs addresses or CIDRs",
                          "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"),
    "from-star": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "*"), 2,
                      "--from '*': wildcards are not allowed; give an address or CIDR",
                      "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"),
    "from-quote": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", '1.2.3.4"'), 2,
                       "--from '1.2.3.4\"': quotes are not allowed (sshsetup adds them)",
                       "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"),
    "from-comma": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "1.2.3.4,5.6.7.8"), 2,
                       "--from '1.2.3.4,5.6.7.8': one range per value; a comma would split it",
                       "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"),
    "from-everything": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "0.0.0.0/0"), 2,
                            "--from '0.0.0.0/0': too broad (wider than /8 for IPv4)",
                            "use a narrower range such as your provider's block or a /16"),
    "from-negation": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", "!1.2.3.4"), 2,
                          "--from '!1.2.3.4': negation is not supported (it would deny, not allow)",
                          "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"),
    "from-empty": Case(("key-line", "--key", f"{H}/.ssh/id", "--from", ""), 2, "--from '': empty value",
                       "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"),
    "keyline-bad-range": Case(("key-line", "--range", "8"), 2, "Invalid value for '--range': '8' is not one of 'exact', '24', '16', 'provider'.",
                              "Try 'sshsetup key-line --help' for help."),
    # jobscript
    "job-too-many-gpus": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--gpus-per-node", "5"), 2,
                              "--gpus-per-node 5 is more than the 4 GPUs of a JUWELS Booster node; allowed: 1 to 4",
                              "use --gpus-per-node 4 (or fewer), and more --nodes with --kind torchrun"),
    "job-devel-too-long": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--partition", "develbooster",
                                "--time", "03:00:00"), 2,
                               "--time 03:00:00 is longer than the 02:00:00 limit of develbooster; allowed: up to 02:00:00",
                               "use --time 02:00:00 or less (limit from the catalogue, low confidence; the live value: scontrol show partition develbooster)"),
    "job-unknown-partition": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--partition", "batch"), 2,
                                  "partition 'batch' is not a GPU partition of JUWELS Booster; allowed: booster, develbooster",
                                  "use --partition booster, or add batch to gpu_partitions of [sites.juwels-booster] in your sites file"),
    "job-account-injection": Case(("jobscript", "--site", "juwels-booster", "--account", "my_proj;rm"), 2,
                                  "--account my_proj;rm is not a valid Slurm account",
                                  "give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500"),
    "job-zero-nodes": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--nodes", "0"), 2,
                           "--nodes 0 is not possible; allowed: 1 or more",
                           "use --nodes 1"),
    "job-unknown-site": Case(("jobscript", "--site", "nowhere", "--account", "myproj"), 2, "unknown site 'nowhere'",
                             "known sites: judac, jupiter, jureca-dc, jusuf, juwels-booster, juwels-cluster"),
    # other commands
    "vscode-no-workspace": Case(("vscode", "--workspace", f"{H}/nope", "--yes"), 2, f"workspace {H}/nope is not a directory",
                                "give the folder you open in VS Code: --workspace DIR"),
    "vscode-broken-tasks": Case(("vscode", "--workspace", f"{H}/ws", "--yes"), 1, f"{H}/ws/.vscode/tasks.json: line 1 column 32: expected a value, found ','",
                                "fix the file by hand (VS Code underlines the problem), then run sshsetup again",
                                lambda h: ((h / "ws" / ".vscode").mkdir(parents=True), (h / "ws" / ".vscode" / "tasks.json").write_text('{"version": "2.0.0", "tasks": [,]}'))),
    "doctor-unknown-check": Case(("doctor", "no.such"), 2, "unknown check 'no.such'",
                                 "known checks: local.ssh, local.home, local.permissions, key.exists, key.permissions, key.passphrase, key.type, "
                                 "local.agent, local.keychain, config.encoding, config.include, config.block, config.ssh-g, config.resolves, "
                                 "config.controlmaster, config.handwritten, net.dns, net.family, net.tcp, net.banner, net.hostkey, auth.from-range, auth.probe, "
                                 "vscode.installed, vscode.remote-ssh, vscode.settings, node.session-job (see: sshsetup doctor --list)"),
    "explain-missing-file": Case(("explain", f"{H}/nope.log"), 2, f"{H}/nope.log does not exist",
                                 "give the file with the log, or - to read it from stdin"),
    "wait-zero-probes": Case(("wait", "--probes", "0"), 2, "Invalid value for '--probes': 0 is not in the range 1<=x<=10.",
                             "Try 'sshsetup wait --help' for help."),
    "sites-broken-file": Case(("sites", "--sites-file", f"{H}/sites.toml"), 2, f"{H}/sites.toml:2: [sites.x] port must be an integer, not str",
                              "write it without quotes: port = 2222",
                              _sites('[sites.x]\nport = "22"\nhostname = "a.org"\n')),
    "read-only-ssh-dir": Case(KEYED, 1, f"cannot write {H}/.ssh/config: operation not permitted",
                              f"check the owner and mode of {H}/.ssh",
                              lambda h: _chattr(h / ".ssh", "+i"), lambda h: _chattr(h / ".ssh", "-i")),
    "read-only-new-key": Case((*INIT, "--passphrase-file", f"{H}/pw", "--site", "jusuf"), 1,
                              f"cannot write {H}/.ssh/id_ed25519_jsc: operation not permitted",
                              f"check the owner and mode of {H}/.ssh",
                              lambda h: (_pw("a long passphrase\n")(h), _chattr(h / ".ssh", "+i")), lambda h: _chattr(h / ".ssh", "-i")),
    "disk-full": Case(KEYED, 1, f"cannot write {H}/.ssh/config: the disk is full",
                      "free some space, then run sshsetup again", _full_ssh_dir, _umount),
    "unknown-option": Case(("init", "--frobnicate"), 2, "No such option '--frobnicate'. Did you mean '--drop-site'?",
                           "Try 'sshsetup init --help' for help."),
    "bad-client": Case(("init", "--client", "putty"), 2, "Invalid value for '--client': 'putty' is not one of 'auto', 'openssh', 'windows', 'macos'.",
                       "Try 'sshsetup init --help' for help."),
    "login-bad-duration": Case(("login", "--for", "8 hours"), 2, "--for '8 hours' is not a duration", "e.g. --for 8h, 90m or 1h30m"),
    "config-usekeychain-on-linux": Case(KEYED, 1, f"ssh rejects {H}/.ssh/config, so sshsetup changed nothing: {H}/.ssh/config: line 2: "
                                        f"Bad configuration option: usekeychain; {H}/.ssh/config: terminating, 1 bad configuration options", f"UseKeychain (line 2 of {H}/.ssh/config) is known only to Apple's ssh: put the line 'IgnoreUnknown UseKeychain' at the top of that file, then run sshsetup init again",
                                        _cfg(b"Host *\n  UseKeychain yes\n")),
    "config-course-placeholder": Case(KEYED, 1, f"ssh rejects {H}/.ssh/config, so sshsetup changed nothing: {H}/.ssh/config line 3: "
                                      f"keyword user extra arguments at end of line; {H}/.ssh/config: terminating, 1 bad configuration options", f"line 3 of {H}/.ssh/config still holds the placeholder '[ADD YOUR USERNAME HERE]' of a course snippet: put your own value there (or delete that entry: sshsetup writes its own), then run sshsetup init again",
                                      _cfg(b"Host booster\n  HostName juwels-booster.fz-juelich.de\n  User [ADD YOUR USERNAME HERE]\n")),
    "config-non-breaking-spaces": Case(KEYED, 1, f"ssh rejects {H}/.ssh/config, so sshsetup changed nothing: {H}/.ssh/config: line 2: "
                                       "Bad configuration option: \\302\\240\\302\\240hostname; "
                                       f"{H}/.ssh/config: terminating, 1 bad configuration options", f"line 2 of {H}/.ssh/config contains non-breaking spaces (pasted from a web page or PDF); retype them as ordinary spaces, then run sshsetup init again",
                                       _cfg("Host x\n\u00a0\u00a0HostName x.example.org\n".encode())),
    "doctor-report-missing-dir": Case(("doctor", "--report", f"{H}/nope/r.json", "--yes"), 2,
                                      f"cannot write the report to {H}/nope/r.json: the directory {H}/nope does not exist", f"create it first (mkdir -p {H}/nope), or give a file in an existing directory"),
    "doctor-report-unconfirmed": Case(("doctor", "--report", f"{H}/r.json"), 2, "writing the report needs a confirmation",
                                      "run it in a terminal to read the report and answer, or add --yes (it is shown before it is written)"),
    "doctor-report-over-config": Case(("doctor", "--report", f"{H}/.ssh/config", "--yes"), 1,
                                      f"{H}/.ssh/config exists and is not an sshsetup report; it was not changed", "give a new file name, e.g. --report sshsetup-report.json",
                                      _cfg(b"Host x\n    User me\n")),
    "from-report-deep": Case(("doctor", "--from-report", f"{H}/r.json"), 2, f"{H}/r.json is nested too deeply to be an sshsetup report", "it must be a file written by: sshsetup doctor --report FILE (ask for it again)",
                             lambda h: (h / "r.json").write_text("[" * 100_000)),
    "from-report-wrong-type": Case(("doctor", "--from-report", f"{H}/r.json"), 2,
                                   f"{H}/r.json is not a valid sshsetup report: checks[0].status must be one of ok, warn, fail, skip", "it must be a file written by: sshsetup doctor --report FILE (ask for it again)",
                                   lambda h: (h / "r.json").write_text('{"sshsetup": "doctor-report", "version": 2, '
                                                                       '"checks": [{"id": "a", "status": 5, "summary": ""}]}')),
    "explain-binary": Case(("explain", f"{H}/core"), 2, f"{H}/core is not a text log (binary data)", "give the ssh -v output or the Remote-SSH log as text",
                           lambda h: (h / "core").write_bytes(bytes(range(256)) * 64)),
    "explain-directory": Case(("explain", H), 2, f"{H} is a directory", "give the file with the log, or - to read it from stdin"),
    # issue 12: passphrase files nobody could type at ssh's prompt, files that would hang, catch-all patterns
    "passphrase-nul": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2, f"passphrase file {H}/pw contains a NUL byte", "ssh's prompt stops at NUL, so that key could never be unlocked: write the passphrase as plain text",
                           lambda h: (h / "pw").write_bytes(b"a long\0passphrase\n")),
    "passphrase-latin1": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2,
                              f"passphrase file {H}/pw is not valid UTF-8 (byte 4: 0xe9; Latin-1 or another legacy encoding?)", "save the file as UTF-8 (without BOM): that is what a UTF-8 terminal sends when you type it",
                              lambda h: (h / "pw").write_bytes(b"caf\xe9 au lait\n")),
    "passphrase-1024-bytes": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2,
                                  f"passphrase file {H}/pw is 1024 bytes long; ssh reads at most 1023", "use a passphrase of at most 1023 bytes",
                                  lambda h: (h / "pw").write_bytes(b"x" * 1024 + b"\r\n")),
    "passphrase-huge-file": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2, f"passphrase file {H}/pw is larger than 64 KiB", "a passphrase file is never that big: check that this is the right file",
                                 lambda h: (h / "pw").write_bytes(b"x" * (64 * 1024 + 1))),
    "passphrase-fifo": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2, f"passphrase file {H}/pw is a named pipe (FIFO), not a regular file", "sshsetup reads regular files only (a pipe or device could block or never end); save the content to a file and give that",
                            lambda h: os.mkfifo(h / "pw")),
    "passphrase-dev-zero": Case((*INIT, "--passphrase-file", "/dev/zero"), 2,
                                "passphrase file /dev/zero is a character device, not a regular file", "sshsetup reads regular files only (a pipe or device could block or never end); save the content to a file and give that"),
    "sites-file-catch-all-pattern": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                         f"{H}/sites.toml:3: [sites.x] compute_node_pattern * is too broad: it must end in a fixed domain part", "a compute-node pattern names the nodes of one cluster, e.g. jwb*i.juwels; a wildcard at its end would send other hosts through the login node",
                                         _sites('[sites.x]\nhostname = "a.org"\ncompute_node_pattern = "*"\n')),
    "sites-file-pattern-matches-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                             f"{H}/sites.toml:4: [sites.x] compute_node_pattern node*.x matches the alias node1.x of site 'x'", "ssh would reach that alias through a ProxyJump (through itself: a loop); give a pattern that matches compute nodes only, e.g. jwb*i.juwels",
                                             _sites('[sites.x]\nhostname = "a.org"\nalias = "node1.x"\ncompute_node_pattern = "node*.x"\n')),
    "key-fifo": Case((*INIT, "--key", f"{H}/k"), 2, f"key {H}/k is a named pipe (FIFO), not a regular file",
                     "sshsetup reads regular files only (a pipe or device could block or never end); save the content to a file and give that",
                     lambda h: os.mkfifo(h / "k")),
    "key-dev-zero": Case((*INIT, "--key", "/dev/zero"), 2, "key /dev/zero is a character device, not a regular file",
                         "sshsetup reads regular files only (a pipe or device could block or never end); save the content to a file and give that"),
    # jobscript --chain (issue 15)
    "chain-interval-too-long": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--partition", "develbooster", "--time", "00:02:00", "--chain", "3",
                                     "--checkpoint-every", "2m", "--signal-lead", "1m"), 2,
                                    "--checkpoint-every 2m plus --signal-lead 1m is 3m, longer than the link's 2m: "
                                    "a link would end before its first checkpoint", "use --checkpoint-every 1m or less, or a longer --time"),
    "chain-short-lead": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--chain", "3", "--signal-lead", "30s"), 2, "--signal-lead 30s is shorter than the minimum of 1m", "the last checkpoint must be written before the kill: use --signal-lead 1m or more (default 5m)"),
    "chain-under-home": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--chain", "3", "--checkpoint-dir", "~/ckpt"), 2,
                             "--checkpoint-dir ~/ckpt is under $HOME, whose quota is small on JSC systems", "put checkpoints on $SCRATCH or $PROJECT, e.g. --checkpoint-dir '$SCRATCH/ckpt'"),
    "chain-beyond-cap": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--time", "24:00:00", "--chain", "20"), 2, "--chain 20 x 24h is 480h, beyond the cap of 336h", "check the numbers, then re-run with --yes to write it anyway"),
    "chain-dir-injection": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--chain", "2", "--checkpoint-dir", "$(rm -rf ~)"), 2,
                                "--checkpoint-dir '$(rm -rf ~)' is not a path sshsetup can put in a job script", "use a path of letters, digits and ./_-, with $VARIABLES allowed, e.g. --checkpoint-dir '$SCRATCH/ckpt'"),
    "chain-option-without-chain": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--signal-lead", "5m"), 2, "--signal-lead is an option of a chain", "add --chain N (N links, each up to --time)"),
    "job-no-site": Case(("jobscript", "--account", "myproj"), 2, "jobscript needs --site: init has set up no site", "e.g. sshsetup jobscript --site juwels-booster --account training2500"),
    "job-no-account": Case(("jobscript", "--site", "juwels-booster"), 2, "jobscript needs --account", "e.g. sshsetup jobscript --site juwels-booster --account training2500"),
    "job-venv-relative": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--venv", "venv"), 2,
                              "--venv venv is not an absolute path or one under $PROJECT, $SCRATCH, $FASTDATA",
                              "give the venv's directory (the one holding bin/activate), e.g. --venv '$PROJECT_<account>/$USER/venv'"),
    "job-venv-injection": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--venv", '/p/x";rm -rf ~;"'), 2,
                               "--venv '/p/x\";rm -rf ~;\"' is not an absolute path or one under $PROJECT, $SCRATCH, $FASTDATA",
                               "give the venv's directory (the one holding bin/activate), e.g. --venv '$PROJECT_<account>/$USER/venv'"),
    "job-venv-newline": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--venv", "/p/x\nsrun evil"), 2,
                             "--venv '/p/x\\nsrun evil' is not one line of text",
                             "give the venv's directory, e.g. --venv '$PROJECT_<account>/$USER/venv'"),
    "job-follow-without-submit": Case(("jobscript", "--site", "juwels-booster", "--account", "myproj", "--follow"), 2,
                                      "--follow follows a job that --submit submits", "add --submit"),
    "jobs-stop-without-chain": Case(("jobs", "--stop"), 2, "--stop needs the CHAIN to stop", "sshsetup jobs --stop CHAIN (the ids: sshsetup jobs)"),
    "jobs-bad-chain-id": Case(("jobs", "12;rm"), 2, "chain 12;rm is not a job id", "give the chain's first job id, as sshsetup jobs lists it"),
    "code-no-account": Case(("code", "--site", "juwels-booster"), 2, "no budget for the session job", "give --account NAME (at JSC: jutil user projects lists yours)"),
    "code-bad-idle": Case(("code", "--site", "juwels-booster", "--account", "myproject", "--idle", "soon"), 2,
                          "--idle soon is not a duration", "e.g. --idle 30m, --idle 2h, or --idle 0 (never)"),
    "code-too-many-gpus": Case(("code", "--site", "juwels-booster", "--account", "myproject", "--gpus", "9"), 2,
                               "--gpus 9 is not possible on a JUWELS Booster node; allowed: 1 to 4", "use --gpus 4 or fewer: a session is one node"),
    "code-bad-begin": Case(("code", "--site", "juwels-booster", "--account", "myproject", "--begin", "now;reboot"), 2,
                           "--begin now;reboot is not a Slurm time", "e.g. --begin now+1hour or --begin 16:00"),
    "serve-bad-account": Case(("serve", "jupyter", "--site", "juwels-booster", "--account", "a b"), 2,
                              "--account 'a b' is not a valid Slurm account", "give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500"),
    # issue 12: hardening
    "sites-file-alias-takeover": Case((*KEYED, "--sites-file", f"{H}/sites.toml", "--site", "x"), 2,
                                      f"[sites.x] alias github.com would take over your own 'Host github.com' ({H}/.ssh/config:1)",
                                      "ssh github.com would reach the site instead; give the site another alias: --alias x=NAME (or alias = \"...\" in the sites file)",
                                      lambda h: (_sites('[sites.x]\nhostname = "a.org"\nalias = "github.com"\n')(h),
                                                 _cfg(b"Host github.com\n  IdentityFile ~/.ssh/id\n")(h))),
    "sites-file-alias-takeover-pattern": Case((*KEYED, "--sites-file", f"{H}/sites.toml", "--site", "x"), 2,
                                              f"[sites.x] alias github.com would take over your own 'Host *.com' ({H}/.ssh/config:3)",
                                              "ssh github.com would reach the site instead; give the site another alias: --alias x=NAME (or alias = \"...\" in the sites file)",
                                              lambda h: (_sites('[sites.x]\nhostname = "a.org"\nalias = "github.com"\n')(h),
                                                         _cfg(b"Host *\n  ServerAliveInterval 30\nHost *.com\n  User git\n")(h))),
    "manifest-wrong-type-remove": Case(("remove", "--yes"), 1,
                                       f"sshsetup's record {H}/.local/state/sshsetup/manifest.json is damaged: keys must be a list of strings",
                                       f"move it away (mv {H}/.local/state/sshsetup/manifest.json {H}/.local/state/sshsetup/manifest.json.damaged) and run the command again; remove then still takes out the managed ssh block",
                                       _manifest('{"version": 1, "keys": 5}')),
    "manifest-wrong-type-init": Case(KEYED, 1,
                                     f"sshsetup's record {H}/.local/state/sshsetup/manifest.json is damaged: control_dirs must be a list of strings",
                                     f"move it away (mv {H}/.local/state/sshsetup/manifest.json {H}/.local/state/sshsetup/manifest.json.damaged) and run the command again; remove then still takes out the managed ssh block",
                                     _manifest('{"version": 1, "control_dirs": "/tmp"}')),
    "manifest-wrong-type-settings": Case(KEYED, 1,
                                         f"sshsetup's record {H}/.local/state/sshsetup/manifest.json is damaged: vscode_settings must be a table keyed by file names",
                                         f"move it away (mv {H}/.local/state/sshsetup/manifest.json {H}/.local/state/sshsetup/manifest.json.damaged) and run the command again; remove then still takes out the managed ssh block",
                                         _manifest('{"version": 1, "vscode_settings": []}')),
    "key-pub-malformed": Case((*INIT, "--key", f"{H}/pem"), 2, f"{H}/pem.pub is not a valid public key",
                              f"regenerate it: ssh-keygen -y -f {H}/pem > {H}/pem.pub", _pem_with_bad_pub),
    "vscode-alias-option": Case(("vscode", "--workspace", f"{H}/ws", "--alias", "-oProxyCommand=x", "--yes"), 2,
                                "--alias -oProxyCommand=x is not a valid ssh alias",
                                "use letters, digits, '.', '_' and '-' only (no wildcards, spaces, '#' or quotes)", lambda h: (h / "ws").mkdir()),
    "vscode-alias-space": Case(("vscode", "--workspace", f"{H}/ws", "--alias", "a b", "--yes"), 2,
                               "--alias 'a b' is not a valid ssh alias",
                               "use letters, digits, '.', '_' and '-' only (no wildcards, spaces, '#' or quotes)", lambda h: (h / "ws").mkdir()),
    "config-read-only": Case(KEYED, 1, f"{H}/.ssh/config is read-only (mode 0400); sshsetup changes no read-only file",
                             f"if it may change, make it writable and run sshsetup again: chmod u+w {H}/.ssh/config",
                             lambda h: (_cfg(b"Host a\n  HostName a.org\n")(h), (h / ".ssh" / "config").chmod(0o400))),
    "remove-config-read-only": Case(("remove", "--yes"), 1, f"{H}/.ssh/config is read-only (mode 0444); sshsetup changes no read-only file",
                                    f"if it may change, make it writable and run sshsetup again: chmod u+w {H}/.ssh/config",
                                    lambda h: (_cfg(b"# BEGIN sshsetup (managed)\nHost x\n# END sshsetup\n")(h), (h / ".ssh" / "config").chmod(0o444))),
    "vscode-settings-read-only": Case(KEYED, 1,
                                      f"{H}/.config/Code/User/settings.json is read-only (mode 0444); sshsetup changes no read-only file",
                                      f"if it may change, make it writable and run sshsetup again: chmod u+w {H}/.config/Code/User/settings.json",
                                      _read_only_settings),
    "config-hard-link": Case(KEYED, 1, f"{H}/.ssh/config has 2 hard links; replacing it would cut it off from the other names",
                             f"keep one name and make the others symlinks to it (sshsetup writes through symlinks); they are: find ~ -xdev -samefile {H}/.ssh/config",
                             _hard_linked_config),
    "drop-site-not-set-up": Case(("init", "--yes", "--user", "smith1", "--drop-site", "jureca-dc"), 2,
                                 "--drop-site jureca-dc: jureca-dc is not one of the sites being set up (juwels-booster, jusuf)", "name a site from the list, e.g. --drop-site juwels-booster"),
    "drop-site-every-site": Case(("init", "--yes", "--user", "smith1", "--drop-site", "jusuf", "--drop-site", "juwels-booster"), 2,
                                 "--drop-site would drop every site", "to undo everything sshsetup wrote, run: sshsetup remove"),
    "config-fifo": Case(KEYED, 1, f"{H}/.ssh/config is a named pipe (FIFO), not a regular file",
                        "sshsetup reads regular files only (a pipe or device could block or never end); save the content to a file and give that",
                        lambda h: os.mkfifo(h / ".ssh" / "config")),
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
    home = str(fake_home)
    error, hint = case.error.replace(H, home), case.hint.replace(H, home)
    assert r.rc == case.rc, r.err
    if hint.startswith("Try 'sshsetup "):  # click's usage errors: its usage line, the pointer to --help, the error
        assert r.err == f"Usage: sshsetup {case.args[0]} [OPTIONS]\n{hint}\n\nError: {error}\n"
    else:
        assert r.err == f"error: {error}\nhint: {hint}\n"
    assert r.out == ""
    assert without_own_lock(after, before) == before
