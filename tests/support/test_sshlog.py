"""``sshsetup.support.sshlog``: every saved transcript (tests/data/sshlogs/README.md) is classified
as its cause; titles and hints are pinned as literals; the context rules, the normalisations and
the linear-time bound each have their own tests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sshsetup.support import sshlog
from tests.timing import DEFAULT, budget

DATA = Path(__file__).parents[1] / "data" / "sshlogs"

EXPECTED = {
    # recorded from real runs (record.sh)
    "accepted": ["accepted"],
    "accepted-vvv": ["accepted"],
    "publickey-not-uploaded": ["publickey-refused"],
    "publickey-from-mismatch": ["publickey-refused"],
    "ipv6-not-in-range": ["publickey-refused"],
    "hostkey-changed": ["hostkey-changed"],
    "hostkey-unknown": ["hostkey-unknown"],
    "passphrase-no-agent": ["passphrase-needed"],
    "passphrase-no-agent-vvv": ["passphrase-needed"],
    "bad-permissions-config": ["bad-permissions"],
    "unprotected-key": ["unprotected-key"],
    "too-many-failures": ["too-many-failures"],
    "partial-success-2fa": ["partial-success-2fa"],
    "connection-refused": ["connection-refused"],
    "banner-timeout": ["banner-timeout"],
    "closed-before-auth": ["closed-before-auth"],
    "reset-before-auth": ["closed-before-auth"],
    "connect-timeout": ["connect-timeout"],
    "resolve-failed": ["resolve-failed"],
    "dsa-key-skipped": ["algorithm-refused"],
    "hostkey-algorithm-refused": ["algorithm-refused"],
    "forwarding-disabled": ["accepted", "forwarding-refused"],
    "password-denied": ["password-rejected"],
    "no-key-offered": ["no-key-offered"],
    "hostkey-changed-password": ["hostkey-changed"],
    "totp-accepted": ["2fa-accepted"],
    "totp-wrong-code": ["2fa-rejected"],
    "totp-unanswered": ["2fa-unanswered"],
    # real users' logs from public issue threads (source URL in each file's first line)
    "gh-no-mutual-signature": ["algorithm-refused"],
    "gh-send-pubkey-test": ["algorithm-refused"],
    "gh-hostkey-type": ["algorithm-refused"],
    "gh-proxyjump-createprocess": ["proxy-spawn-failed"],
    "gh-vscode-posix-spawnp": ["proxy-spawn-failed"],
    "gh-vscode-wget-failed": ["vscode-server-download"],
    "gh-vscode-neither-curl-wget": ["vscode-server-download"],
    "gh-vscode-glibc": ["vscode-glibc"],
    "gh-vscode-glibcxx-warning": ["vscode-glibc"],
    "gh-forwarding-prohibited": ["forwarding-refused"],
    "gh-vscode-password-denied": ["password-rejected"],
    "gh-ppk-invalid-format": ["putty-key"],
    "gh-devtty-kbd": ["no-terminal-prompt"],
    "gh-devtty-password-windows": ["no-terminal-prompt"],
    "gh-vscode-devtty-askpass": [],
    "gh-vscode-duo-prompt": ["partial-success-2fa"],
    "gh-vscode-duo-accepted": ["2fa-accepted"],
    "gh-vscode-duo-success-split": ["2fa-accepted"],
    "gh-windows-controlmaster": ["controlmaster-windows"],
    "gh-vscode-controlmaster-quoted": ["controlmaster-windows"],
    "gh-wsl-muxclient": ["controlmaster-failed"],
    "gh-totp-rejected": ["2fa-rejected"],
    "gh-ansible-escaped": ["algorithm-refused"],
    # composed in the formats of VS Code's log, Windows' OpenSSH and PAM (README)
    "vscode-pipe-publickey": ["publickey-refused"],
    "vscode-pipe-only": ["vscode-pipe"],
    "vscode-no-connection": ["vscode-no-connection"],
    "vscode-lock": ["accepted", "vscode-lock"],
    "vscode-quota": ["accepted", "disk-quota"],
    "vscode-shell-output": ["accepted", "shell-output"],
    "vscode-shell-output-new-format": ["accepted", "shell-output"],
    "windows-corrupted-mac": ["corrupted-mac"],
    "windows-controlmaster": ["controlmaster-windows"],
    "key-invalid-format": ["key-invalid-format"],
    "totp-wrong-code-message": ["2fa-wrong-code"],
    "totp-code-reused": ["2fa-code-reused"],
}

# Pinned literally (issue 10 item 7): a changed title or hint must change this table too.
TITLES_AND_HINTS = {
    'accepted': (
        'authentication succeeded',
        'nothing to fix for the login itself',
    ),
    'publickey-refused': (
        'the server refused the key (Permission denied (publickey))',
        "either the key is not uploaded for this system in JuDoor or not yet active (allow up to 15 minutes), or your address is outside the key's from= ranges (new network, VPN, IPv6); the client output is the same for both: run: sshsetup doctor (it compares your source address with the recorded from= ranges)",
    ),
    'algorithm-refused': (
        'client and server share no algorithm for the key, host key or signature (an old key type, or an old server or client)',
        'make a new ed25519 key (sshsetup init) and upload its key line in JuDoor; if the server offers only ssh-rsa host keys, update the client or allow it for that host only: HostKeyAlgorithms +ssh-rsa',
    ),
    'partial-success-2fa': (
        'the key was accepted, then a second factor (keyboard-interactive, e.g. TOTP) was required',
        'log in from a terminal (ssh ALIAS) to answer the prompt; in VS Code set "remote.SSH.showLoginTerminal": true and use a ControlMaster so the code is asked once',
    ),
    'proxy-spawn-failed': (
        'ssh could not start the ProxyJump/ProxyCommand program (Windows: CreateProcessW failed error:2)',
        'Windows\' ssh looks for a plain "ssh" to run the jump: instead of ProxyJump use ProxyCommand C:\\Windows\\System32\\OpenSSH\\ssh.exe -W %h:%p JUMPHOST, or update Win32-OpenSSH (8.1 or newer); elsewhere check that the ProxyCommand program exists',
    ),
    'vscode-server-download': (
        'the remote host could not download the VS Code server (no internet access, no curl or wget)',
        'let VS Code download the server on your computer and copy it over: set "remote.SSH.localServerDownload": "always", then reconnect',
    ),
    'vscode-glibc': (
        'the remote system is older than this VS Code server needs (glibc 2.28 and libstdc++ 3.4.25 since VS Code 1.99)',
        'connect to a newer system or login node, or use VS Code 1.98 or older for this host; the VS Code Remote FAQ describes a workaround for old distributions',
    ),
    'forwarding-refused': (
        'the server refused a forwarded channel (administratively prohibited)',
        "VS Code and ProxyJump need TCP forwarding: if it happens on every connection the server forbids it (AllowTcpForwarding no), ask the site's support; if it starts after a while, kill the remote server (Remote-SSH: Kill VS Code Server on Host) and reconnect",
    ),
    'password-rejected': (
        'a password (or the user name) was not accepted (Permission denied, please try again.)',
        "check the user name: ssh -G ALIAS | grep '^user ' must show your JuDoor user name; JSC systems accept keys, not passwords, so a password prompt there means the key was not offered or was refused: run sshsetup doctor",
    ),
    'no-terminal-prompt': (
        "ssh had to ask for a password or a keyboard-interactive answer but had no terminal (read_passphrase: can't open /dev/tty)",
        'run the command in a terminal; in VS Code set "remote.SSH.showLoginTerminal": true; a server asking for a password usually means the key was not offered or was refused: run sshsetup doctor',
    ),
    'no-key-offered': (
        'ssh had no key to offer (no IdentityFile found, no key in the agent)',
        'check that IdentityFile in ssh -G ALIAS names your private key and that the file exists (sshsetup init writes it), then run sshsetup doctor',
    ),
    'putty-key': (
        'the private key is a PuTTY .ppk file, which OpenSSH cannot read (invalid format)',
        'convert it with PuTTYgen (Conversions > Export OpenSSH key) and point IdentityFile at the exported file, or make a new key with sshsetup init',
    ),
    'key-invalid-format': (
        'ssh could not read the private key file (Load key: invalid format)',
        'IdentityFile must name the private key (not the .pub file), unchanged (no CRLF line endings, no missing lines); check with: ssh-keygen -y -f KEYFILE',
    ),
    'too-many-failures': (
        'the server disconnected: too many authentication failures',
        'ssh offered too many keys (agent or defaults) before the right one: add IdentitiesOnly yes and the IdentityFile to the host',
    ),
    'passphrase-needed': (
        'the server accepts the key, but ssh could not use it: the key has a passphrase and no agent holds it',
        'add the key to your agent once: ssh-add KEYFILE (macOS: ssh-add --apple-use-keychain KEYFILE), then retry',
    ),
    'closed-before-auth': (
        'the connection was closed or reset before authentication (no SSH banner)',
        "possibly a firewall block after too many connections, or the server is overloaded; stop retrying for a few minutes: JSC's firewall blocks addresses that connect too often",
    ),
    'banner-timeout': (
        'TCP connected but the server sent no SSH banner in time (accepted but silent)',
        "a firewall block or an overloaded host; stop retrying for a few minutes: JSC's firewall blocks addresses that connect too often",
    ),
    'connect-timeout': (
        'the TCP connection timed out',
        "the host is unreachable from this network (VPN? firewall dropping packets?); check with: sshsetup doctor net.tcp; stop retrying for a few minutes: JSC's firewall blocks addresses that connect too often",
    ),
    'connection-refused': (
        'the connection was refused',
        'wrong host name or port, the host is down, or a firewall rejects you; check HostName/Port: ssh -G ALIAS',
    ),
    'resolve-failed': (
        'the host name could not be resolved',
        'check the spelling of HostName and that you are online; try: nslookup HOSTNAME',
    ),
    'hostkey-changed': (
        "the server's host key differs from the one in known_hosts (REMOTE HOST IDENTIFICATION HAS CHANGED)",
        'compare the new fingerprint with the one the site publishes; only if it matches, remove the old entry with the ssh-keygen -R command printed in the log',
    ),
    'hostkey-unknown': (
        'the host key is not in known_hosts and strict checking (or BatchMode) forbids asking',
        'connect once in a terminal (ssh ALIAS), compare the fingerprint with the one the site publishes and accept it',
    ),
    'bad-permissions': (
        'ssh refuses a config or key file because of its owner or permissions (Bad owner or permissions)',
        'chmod 600 ~/.ssh/config (on Windows: remove inherited ACLs so only you can read it)',
    ),
    'unprotected-key': (
        'the private key file is readable by others (UNPROTECTED PRIVATE KEY FILE), so ssh ignores it',
        'chmod 600 KEYFILE (on Windows: remove inherited ACLs so only you can read it)',
    ),
    'corrupted-mac': (
        "Corrupted MAC on input (a known bug of Windows' OpenSSH with some MACs)",
        "add to the host's ssh config: MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com",
    ),
    'controlmaster-windows': (
        "ControlMaster is used with Windows' own OpenSSH, which does not support it",
        'remove ControlMaster/ControlPath/ControlPersist for this host (sshsetup does not write them on Windows); for one code per session on Windows use WSL',
    ),
    'controlmaster-failed': (
        'ssh could not use its shared connection (ControlMaster socket)',
        'close the master and retry: ssh -O exit ALIAS (or delete the socket named by ControlPath); on WSL keep ControlPath inside the Linux file system, not under /mnt/c',
    ),
    '2fa-accepted': (
        'the key and the second factor (one-time code) were accepted',
        'nothing to fix for the login itself',
    ),
    '2fa-rejected': (
        'the one-time code was not accepted (wrong, or already used within its 30 s window)',
        "wait for the next code (a code is valid once), check your phone's clock is exact, and type it within 30 s",
    ),
    '2fa-wrong-code': (
        'the one-time code was wrong',
        "check that the authenticator entry is the one for this site and that your phone's clock is exact, then use the next code",
    ),
    '2fa-code-reused': (
        'the one-time code was already used (a code is valid once)',
        'wait for the next code (up to 30 s) and use it; let one login open a ControlMaster (sshsetup login) instead of logging in again',
    ),
    '2fa-unanswered': (
        'the one-time code prompt was never answered (timeout, or no terminal to type it in)',
        'log in once from a terminal (ssh ALIAS) and type the code there; with sshsetup login the code is asked once per working session; in VS Code set "remote.SSH.showLoginTerminal": true',
    ),
    'vscode-pipe': (
        'VS Code: "The process tried to write to a nonexistent pipe" (ssh exited early; the real error is in ssh\'s output)',
        'look at the other causes listed; if none, run ssh -v ALIAS true in a terminal and run sshsetup explain on its output',
    ),
    'vscode-lock': (
        'VS Code server install is blocked by a lock (Installation already in progress / flock errors)',
        'set "remote.SSH.useFlock": false and "remote.SSH.lockfilesInTmp": true, then kill stale servers: Remote-SSH: Kill VS Code Server on Host',
    ),
    'disk-quota': (
        'the remote disk quota is exceeded (space or number of files)',
        'free space in $HOME (check: jutil user dataquota, or quota), or move the VS Code server with remote.SSH.serverInstallPath',
    ),
    'shell-output': (
        'the remote shell printed text that VS Code could not parse',
        'make ~/.bashrc (and similar) print nothing for non-interactive shells: wrap output in: if [[ $- == *i* ]]; then ...; fi',
    ),
    'vscode-no-connection': (
        'VS Code: Could not establish connection (no more specific cause found in this log)',
        'open the Remote-SSH log (Remote-SSH: Show Log) or run ssh -v ALIAS true, and run sshsetup explain on it',
    ),
}


def read(name: str) -> str:
    return (DATA / f"{name}.log").read_text(encoding="utf-8")


def causes(text: str) -> list[str]:
    return [f.cause for f in sshlog.classify(text)]


def test_every_saved_transcript_has_an_expectation() -> None:
    assert sorted(p.stem for p in DATA.glob("*.log")) == sorted(EXPECTED)


def test_every_cause_has_a_transcript() -> None:
    covered = {c for found in EXPECTED.values() for c in found}
    assert covered == set(sshlog.CAUSES)


def test_titles_and_hints_are_the_pinned_ones() -> None:
    assert list(TITLES_AND_HINTS) == list(sshlog.CAUSES)  # the README lists them in this order
    assert {c.id: (c.title, c.hint) for c in sshlog.CAUSES.values()} == TITLES_AND_HINTS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_classified(name: str) -> None:
    assert causes(read(name)) == EXPECTED[name]


def test_evidence_lines_point_at_the_evidence() -> None:
    text = read("publickey-from-mismatch")
    [f] = sshlog.classify(text)
    assert [text.splitlines()[n - 1] for n in f.lines] == ["root@127.0.0.1: Permission denied (publickey)."]
    assert f.evidence == ("root@127.0.0.1: Permission denied (publickey).",)


def test_key_refusal_names_both_causes_and_the_doctor() -> None:
    """not uploaded and from= mismatch print byte-identical client output (tests/data/sshlogs/README.md)."""
    def strip(name: str) -> list[str]:
        return [ln for ln in read(name).splitlines() if "debug1: Offering" not in ln and "SHA256" not in ln]

    assert strip("publickey-not-uploaded")[-4:] == strip("publickey-from-mismatch")[-4:]
    [f] = sshlog.classify(read("publickey-from-mismatch"))
    assert f.hint == TITLES_AND_HINTS["publickey-refused"][1]
    [f6] = sshlog.classify(read("ipv6-not-in-range"))
    assert f6.hint == ("this connection used IPv6: a from= list with only IPv4 ranges refuses it (AddressFamily inet avoids it); "
                       + TITLES_AND_HINTS["publickey-refused"][1])


def test_host_key_algorithm_has_its_own_hint() -> None:
    [f] = sshlog.classify(read("gh-hostkey-type"))
    assert f.hint == ("the server offers only old host key or key exchange types that this client no longer accepts: update the "
                      "server or, for that host only, allow its type: HostKeyAlgorithms +ssh-rsa (the type named after \"Their offer:\")")
    [f] = sshlog.classify(read("gh-no-mutual-signature"))
    assert f.hint == TITLES_AND_HINTS["algorithm-refused"][1]


# -- context rules (issue 16 item 1) ------------------------------------------------------------
def test_dev_tty_after_a_key_line_is_a_passphrase() -> None:
    text = ("debug1: Trying private key: /root/.ssh/id_rsa\n"
            "debug1: read_passphrase: can't open /dev/tty: No such device or address\n")
    assert causes(text) == ["passphrase-needed"]
    assert causes('Load key "/root/.ssh/id_rsa": incorrect passphrase supplied to decrypt private key\n') == ["passphrase-needed"]


def test_dev_tty_after_keyboard_interactive_or_password_is_no_terminal() -> None:
    for before in ("debug1: Next authentication method: keyboard-interactive\n", "user@host's password:\n",
                   "debug1: Next authentication method: password\n"):
        assert causes(before + "debug1: read_passphrase: can't open /dev/tty: Device not configured\n") == ["no-terminal-prompt"]


def test_dev_tty_without_context_is_unknown() -> None:
    assert causes("debug1: read_passphrase: can't open /dev/tty: No such device or address\n") == []


def test_refused_algorithms_are_not_a_key_refusal() -> None:
    for line in ("sign_and_send_pubkey: no mutual signature supported", "debug1: send_pubkey_test: no mutual signature algorithm",
                 "Unable to negotiate with 192.0.2.1 port 22: no matching host key type found. Their offer: ssh-rsa,ssh-dss"):
        assert causes(f"{line}\nuser@192.0.2.1: Permission denied (publickey).\n") == ["algorithm-refused"]


def test_permission_denied_after_a_changed_host_key_is_no_second_cause() -> None:
    assert causes(read("hostkey-changed-password")) == ["hostkey-changed"]


def test_shell_output_is_not_reported_beside_a_specific_cause() -> None:
    text = ("[10:00:00.000] > getsockname failed: Not a socket\n"
            "[10:00:00.100] Failed to parse remote port from server output\n")
    assert causes(text) == ["controlmaster-windows"]
    assert causes("[10:00:00.100] Failed to parse remote port from server output\n") == ["shell-output"]


def test_publickey_only_then_no_more_methods_is_a_refusal() -> None:
    text = ("debug1: Authentications that can continue: publickey\n"
            "debug1: Next authentication method: publickey\n"
            "debug1: Offering public key: /home/u/.ssh/id_ed25519_jsc ED25519 SHA256:x explicit\n"
            "debug1: Authentications that can continue: publickey\n"
            "debug1: No more authentication methods to try.\n")
    [f] = sshlog.classify(text)
    assert (f.cause, f.lines) == ("publickey-refused", (5,))


def test_duo_and_passcode_prompts_are_the_2fa_cause() -> None:
    for prompt in ("Duo two-factor login for smith1", "Passcode:", "Passcode or option (1-2):", "JSC TOTP Verification code:"):
        assert causes(f"Authenticated using \"publickey\" with partial success.\n{prompt}\n") == ["partial-success-2fa"]
        assert causes(f"(smith1@jureca) {prompt}\n") == ["partial-success-2fa"]


def test_windows_controlmaster_phrases() -> None:
    for line in ("muxclient socket(): Unknown error", "getsockname failed: Bad file descriptor",
                 "channel_send_open: channel 0: unexpected internal error", "getsockname failed: Not a socket"):
        assert causes(line + "\n") == ["controlmaster-windows"], line
    assert causes("OpenSSH_for_Windows_9.5p1, LibreSSL 3.8.2\nmuxclient: master hello exchange failed\n") == ["controlmaster-windows"]
    assert causes("OpenSSH_9.6p1 Ubuntu\nmuxclient: master hello exchange failed\n") == ["controlmaster-failed"]


# -- normalisation (issue 16 item 4): each on an already recognised log, transformed -------------
def _vscode(text: str, stamp: str) -> str:
    return "".join(f"{stamp} > {ln}\n" for ln in text.splitlines())


@pytest.mark.parametrize("stamp", ["[10:02:11.700]", "[10:02:11]", "[2025-04-24 01:36:16]", "2025-04-24 01:36:16.123 [info]",
                                   "2025-04-24T01:36:16.123Z [info]", "[2025-04-24 01:36:16.123] [error]"])
def test_vscode_timestamps_of_every_format(stamp: str) -> None:
    for name in ("accepted", "publickey-not-uploaded", "partial-success-2fa"):
        assert causes(_vscode(read(name), stamp)) == EXPECTED[name], (name, stamp)


def test_stderr_and_local_server_prefixes() -> None:
    for prefix in ("[08:18:13.084] stderr> ", "stderr> ", "[08:18:13.084] > local-server-1> ", "Tunnel(35495) stderr: "):
        text = "".join(prefix + ln + "\n" for ln in read("accepted").splitlines())
        assert causes(text) == ["accepted"], prefix


def test_crlf_quotes_fences_and_indentation() -> None:
    raw = read("publickey-not-uploaded")
    assert causes(raw.replace("\n", "\r\n")) == ["publickey-refused"]
    assert causes("".join(f"> {ln}\n" for ln in raw.splitlines())) == ["publickey-refused"]
    assert causes("".join(f">> {ln}\n" for ln in raw.splitlines())) == ["publickey-refused"]
    assert causes("```\n" + raw + "```\n") == ["publickey-refused"]
    assert causes("".join(f"    {ln}\n" for ln in raw.splitlines())) == ["publickey-refused"]


def test_ansi_and_unicode_spaces() -> None:
    raw = read("accepted")
    coloured = raw.replace("Authenticated to", "\x1b[1;32mAuthenticated\x1b[0m to").replace("debug1:", "\x1b[2mdebug1:\x1b[0m")
    assert causes(coloured) == ["accepted"]
    assert causes(raw.replace("Authenticated to", "Authenticated\u00a0to")) == ["accepted"]
    assert causes(read("too-many-failures").replace(" ", "\u2009")) == ["too-many-failures"]
    assert causes(read("too-many-failures").replace("Too many", "Too\u200b many")) == ["too-many-failures"]


def test_a_phrase_wrapped_onto_a_continuation_line() -> None:
    text = ("[16:14:55.996] > * the Visual Studio Code Server License Terms (https://aka.ms/vscode-server-license) and Neither curl nor wg\n"
            "> et is installed\n")
    [f] = sshlog.classify(text)
    assert (f.cause, f.lines) == ("vscode-server-download", (2,))
    wrapped = "[10:00:00.000] > " + "x" * 60 + "user@jureca.fz-juelich.de: Permission den\n> ied (publickey).\n"
    assert causes(wrapped) == ["publickey-refused"]
    assert causes("short: Permission den\n> ied (publickey).\n") == []  # a short line was not wrapped


def test_json_escaped_line_ends_of_a_quoted_stderr() -> None:
    """Ansible and AWX quote ssh's stderr in JSON: its line ends arrive as a literal \\r\\n (or \\\\r\\\\n)."""
    raw = read("publickey-not-uploaded")
    assert causes('"msg": "' + raw.replace("\n", "\\r\\n") + '"') == ["publickey-refused"]
    assert causes('"msg": "' + raw.replace("\n", "\\\\r\\\\n") + '"') == ["publickey-refused"]
    [f] = sshlog.classify(read("gh-ansible-escaped"))
    assert f.lines == (3,) and f.evidence == ("sign_and_send_pubkey: no mutual signature supported",)


def test_a_bare_cr_starts_a_line() -> None:
    assert causes("Warning: Permanently added 'host'\rroot@host: Permission denied (publickey).\n") == ["publickey-refused"]
    [f] = sshlog.classify("one\rtwo\r\nthree: Permission denied (publickey).\n")
    assert f.lines == (3,)


def test_clean_lines() -> None:
    assert sshlog.clean_lines("[10:02:11.700] > > Permission denied (publickey).\r\n") == ["Permission denied (publickey)."]
    assert sshlog.clean_lines("2025-04-24 01:36:16.123 [info] stderr> debug1: Connecting to x\n") == ["debug1: Connecting to x"]
    assert sshlog.normalise("2025-04-24 01:36:16.123 [info] stderr> debug1: Connecting to x\n") == "Connecting to x\n"


def test_nothing_recognised() -> None:
    assert sshlog.classify("hello\nworld\n") == []


def test_streamed_pieces_give_the_same_findings() -> None:
    text = read("hostkey-changed").replace("\n", "\r\n")
    whole = sshlog.classify(text)
    for size in (1, 7, 100, 4096):
        found, n = sshlog.classify_stream(text[i:i + size] for i in range(0, len(text), size))
        assert found == whole and n == len(read("hostkey-changed").splitlines()), size


def test_json_envelope() -> None:
    findings = sshlog.classify(read("windows-corrupted-mac"))
    assert sshlog.to_json(findings) == {"version": 1, "causes": [{
        "cause": "corrupted-mac", "title": "Corrupted MAC on input (a known bug of Windows' OpenSSH with some MACs)",
        "hint": "add to the host's ssh config: MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com", "lines": [8],
        "evidence": ["ssh_dispatch_run_fatal: Connection to 192.0.2.20 port 22: Corrupted MAC on input."],
    }]}


# -- linear time on any input (issue 16 item 5) --------------------------------------------------
ADVERSARIAL = {
    "many Load key on one line": lambda mb: "Load key " * (mb * 116_000),
    "many Load key lines": lambda mb: ("Load key " * 100 + "\n") * (mb * 1160),
    "newlines only": lambda mb: "\n" * (mb * 1_000_000),
    "bare CRs": lambda mb: "\r" * (mb * 1_000_000),
    "denied on every line": lambda mb: "Permission denied (publickey).\n" * (mb * 32_000),
    "wrapped continuation lines": lambda mb: ("> " + "a" * 70 + "\n") * (mb * 13_700),
    "quote prefixes": lambda mb: ("> " * 2000 + "x\n") * (mb * 250),
    "unterminated escapes": lambda mb: "\x1b]" + "a" * (mb * 1_000_000),
    "timestamps": lambda mb: ("[10:00:00.000] " * 50 + "\n") * (mb * 1330),
    "unicode spaces": lambda mb: ("\u00a0\u2009" * 40 + "Authenticated to x\n") * (mb * 10_000),
    "unanswered prompts": lambda mb: ("Verification code:\nConnection closed by 192.0.2.1 port 22\n") * (mb * 17_000),
    "typical -vvv log": lambda mb: (read("accepted-vvv") + read("vscode-pipe-publickey")) * (mb * 45),
}


def per_mb(size: int) -> float:
    """0.5 s of CPU per megabyte (time factor 1.5; more under coverage), always under 1 s per megabyte.

    CPU time of this thread (``time.thread_time``), not wall time: the other pytest-xdist workers and
    whatever else shares the cores do not count.
    """
    mb = size / 1e6
    return budget(0.0, 0.5 / DEFAULT * mb, below=mb)


@pytest.mark.parametrize("shape", sorted(ADVERSARIAL))
def test_two_megabytes_of_any_shape_in_well_under_a_second_per_megabyte(shape: str) -> None:
    text = ADVERSARIAL[shape](2)
    t = time.thread_time()
    sshlog.classify(text)
    assert time.thread_time() - t < per_mb(len(text)), shape


@pytest.mark.parametrize("shape", ["many Load key lines", "typical -vvv log"])
def test_twenty_megabytes(shape: str) -> None:
    text = ADVERSARIAL[shape](20)
    t = time.thread_time()
    sshlog.classify(text)
    assert time.thread_time() - t < per_mb(len(text)), shape


def test_one_long_line_is_cut_and_evidence_is_bounded() -> None:
    t = time.thread_time()
    found = sshlog.classify("x" * 5_000_000 + " Permission denied (publickey).\n" + "Permission denied (publickey).\n" * 1000)
    assert time.thread_time() - t < 0.5
    [f] = found
    assert f.lines == tuple(range(2, 2 + sshlog.MAX_EVIDENCE))  # the match past MAX_LINE on line 1 is not examined


def test_vscode_answers_a_code_prompt_itself() -> None:
    """No terminal, but VS Code shows the prompt (askpass): not unanswered."""
    text = ('Authenticated using "publickey" with partial success.\n'
            "debug1: Next authentication method: keyboard-interactive\n"
            "debug1: read_passphrase: can't open /dev/tty: No such device or address\n"
            '[10:05:10.794] Got askpass request: {"request":"(u@jureca) JSC TOTP Verification code: "}\n'
            "[10:05:13.486] Interactor gave response: ******\n"
            "[10:05:19.001] stderr> Authenticated to jureca.fz-juelich.de ([192.0.2.20]:22).\n")
    assert causes(text) == ["2fa-accepted"]
    assert causes(text.rsplit("\n", 2)[0] + "\n") == ["partial-success-2fa"]
    [f] = sshlog.classify(text.split("[10:05:10.794]")[0])
    assert (f.cause, f.lines) == ("2fa-unanswered", (3,))


@pytest.mark.parametrize("where", ["support", "readme"])
def test_the_support_guide_and_the_readme_list_every_cause_with_its_fix(where: str) -> None:
    root = DATA.parents[2]
    if where == "support":
        guide = (root / "docs" / "support.md").read_text(encoding="utf-8")
        draft = guide.split("## What `sshsetup explain` recognises", 1)[1].split("\n## ", 1)[0]
    else:
        draft = (root / "README.md").read_text(encoding="utf-8").split("<details><summary>Every cause", 1)[1].split("</details>")[0]
    rows = [ln for ln in draft.splitlines() if ln.startswith("| `")]
    assert rows == [f"| `{cid}` | {t.replace('|', chr(92) + '|')} | {h.replace('|', chr(92) + '|')} |"
                    for cid, (t, h) in TITLES_AND_HINTS.items()]


def test_a_successful_login_has_no_key_problem() -> None:
    """An extra key that is old, unreadable or encrypted, or a typo in a password, is no cause when the login succeeded."""
    ok = "Authenticated to jureca.fz-juelich.de ([192.0.2.20]:22) using \"publickey\".\n"
    for before in ("debug1: Skipping ssh-dss key /home/u/.ssh/id_dsa - corresponding algo not in PubkeyAcceptedAlgorithms\n",
                   'Load key "/home/u/.ssh/id_rsa": invalid format\n', "Permission denied, please try again.\n",
                   "debug1: Trying private key: /home/u/.ssh/id_rsa\ndebug1: read_passphrase: can't open /dev/tty: No such device\n"):
        assert causes(before + ok) == ["accepted"], before


def test_a_healthy_shared_connection_is_no_controlmaster_failure() -> None:
    text = ("debug1: auto-mux: Trying existing master\n"
            "debug1: mux_client_hello_exchange: master version 4\n"
            "debug1: mux_client_request_session: master session id: 2\n"
            "debug1: Control socket connect(/home/u/.ssh/cm-abc): Connection refused\n")
    assert causes(text) == []
    assert causes("debug1: mux_client_request_session: read from master failed: Broken pipe\n") == ["controlmaster-failed"]


def test_keyboard_interactive_success_after_partial_success_is_2fa_accepted() -> None:
    text = ('Authenticated using "publickey" with partial success.\n'
            "debug1: Authentications that can continue: keyboard-interactive\n"
            "debug1: Next authentication method: keyboard-interactive\n"
            'Authenticated to jureca.fz-juelich.de ([192.0.2.20]:22) using "keyboard-interactive".\n')
    [f] = sshlog.classify(text)
    assert (f.cause, f.lines) == ("2fa-accepted", (4,))


def test_proxy_spawn_inside_a_vscode_message() -> None:
    """microsoft/vscode-remote-release#386: VS Code quotes ssh's error in parentheses."""
    text = "Can't connect to server: unreachable or not Linux x86_64 (posix_spawn: No such file or directory)\n"
    assert causes(text) == ["proxy-spawn-failed"]
