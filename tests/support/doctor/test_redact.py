"""Redaction with planted secrets: none may survive; what helps the diagnosis stays."""

from __future__ import annotations

import pytest

from sshsetup.errors import Refused
from sshsetup.ssh import keys
from sshsetup.support.redact import Redactor, check_clean

HOME = "/home/alice"
R = Redactor.create(homes=[HOME, "/tmp/x/home/"], users=["alice", "sshsetup-abc123"], hostnames=["alice-laptop"],
                    comments=["alice@alice-laptop"], secrets=["s3cr3t-exact"])


@pytest.mark.parametrize(("text", "want"), [
    pytest.param("Connecting to 93.199.55.163 port 22", "Connecting to 93.199.0.0/16 port 22", id="public-v4"),
    pytest.param('from="93.199.0.0/16,10.0.0.0/8"', 'from="93.199.0.0/16,10.0.0.0/8"', id="range-kept-private-kept"),
    pytest.param("ranges: 93.199.55.0/24", "ranges: 93.199.0.0/16", id="narrow-range-widened"),
    pytest.param("[2a00:1450:4001:80b::200e]:22", "[2a00:1450:4001::/48]:22", id="public-v6"),
    pytest.param("127.0.0.1 ::1 10.1.2.3 192.168.1.5 fe80::1 2001:db8::5", "127.0.0.1 ::1 10.1.2.3 192.168.1.5 fe80::1 2001:db8::5", id="non-public-kept"),
    pytest.param("[14:30:01.123] OpenSSH_9.2p1, OpenSSL 3.0.19 glibc 2.36", "[14:30:01.123] OpenSSH_9.2p1, OpenSSL 3.0.19 glibc 2.36", id="no-false-ips"),
    pytest.param("identityfile /home/alice/.ssh/id_ed25519_jsc", "identityfile ~/.ssh/id_ed25519_jsc", id="home"),
    pytest.param("/tmp/x/home/.ssh/config", "~/.ssh/config", id="home-trailing-slash"),
    pytest.param("/home/bob/x and /Users/carol/y and C:\\Users\\dave\\z", "/home/<user>/x and /Users/<user>/y and C:\\Users\\<user>\\z", id="other-homes"),
    pytest.param("user sshsetup-abc123", "user <user>", id="user"),
    pytest.param("alice-laptop.local says", "<host>.local says", id="hostname"),
    pytest.param("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAU5 bob@work-pc", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAU5 <key comment>", id="pub-comment"),
    pytest.param("256 SHA256:YJ35G7cbwe06VjGlwm9zxxUaxuX1Z25JRxKjt84zYlw bob@work-pc (ED25519)",
                 "256 SHA256:YJ35G7cbwe06VjGlwm9zxxUaxuX1Z25JRxKjt84zYlw <key comment> (ED25519)", id="fingerprint-comment"),
    pytest.param("# passphrase: correct horse", "# passphrase: <secret>", id="passphrase-kv"),
    pytest.param('password="hunter2 x"', "password=<secret>", id="password-quoted"),
    pytest.param("Authentications that can continue: publickey,password", "Authentications that can continue: publickey,password", id="no-false-secret"),
    pytest.param("token s3cr3t-exact here", "token <secret> here", id="exact-secret"),
])
def test_redact_text(text: str, want: str) -> None:
    assert R.text(text) == want


def test_private_keys_are_removed_and_refused() -> None:
    pem = keys.generate(b"pw", "alice@alice-laptop").private_pem.decode()
    body = pem.splitlines()[1]
    for text in (pem, "before\n" + pem + "after", pem[: len(pem) // 2],
                 "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nMIIabc\n-----END RSA PRIVATE KEY-----\n",
                 "# " + body + "\n"):
        out = R.text(text)
        assert "PRIVATE KEY-----" not in out and body not in out and "MIIabc" not in out
        assert "[private key removed]" in out
        check_clean(out)
        with pytest.raises(Refused):
            check_clean(text)
    putty = "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\nAAAAIFakePrivateBlob=\nPrivate-MAC: 0123abcd\n"
    assert "AAAAIFakePrivateBlob" not in R.text(putty)


def test_check_clean_refuses_a_secret() -> None:
    with pytest.raises(Refused):
        check_clean("it is s3cr3t-exact", ["s3cr3t-exact"])
    check_clean("nothing here", ["s3cr3t-exact"])


def test_value_walks_json() -> None:
    doc = {"ssh_g": {"alice-laptop": ["hostname 93.199.55.163"]}, "n": 3, "x": None, "l": ("alice",)}
    assert R.value(doc) == {"ssh_g": {"<host>": ["hostname 93.199.0.0/16"]}, "n": 3, "x": None, "l": ["<user>"]}
