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
    # URL credentials
    pytest.param("proxy http://alice:PASSWORD@proxy.corp.example:3128 x", "proxy http://<secret>@proxy.corp.example:3128 x", id="url-user-pass"),
    pytest.param("https://bob@git.example.org/x and ftp://u:p%40ss@h/", "https://<secret>@git.example.org/x and ftp://<secret>@h/", id="url-user"),
    pytest.param("user bob@127.0.0.1 and ssh://git@host", "user bob@127.0.0.1 and ssh://<secret>@host", id="url-only-with-scheme"),
    # SetEnv / setting env
    pytest.param("setenv AWS_SECRET_ACCESS_KEY=wJalr/K7+x", "setenv AWS_SECRET_ACCESS_KEY=<secret>", id="ssh-G-setenv"),
    pytest.param('    SetEnv A=1 B="x y" LANG=C', "    SetEnv A=<secret> B=<secret> LANG=<secret>", id="config-setenv"),
    pytest.param("SetEnv=FOO=bar", "SetEnv=FOO=<secret>", id="config-setenv-equals"),
    pytest.param('debug1: channel 0: setting env GITHUB_TOKEN = "ghp_x"', "debug1: channel 0: setting env GITHUB_TOKEN = <secret>", id="setting-env"),
    pytest.param("debug1: Sending env MY_VAR = hello world", "debug1: Sending env MY_VAR = <secret>", id="sending-env"),
    pytest.param("sendenv MY_TOKEN", "sendenv MY_TOKEN", id="sendenv-names-kept"),
    # NAME=value with a secret-like name
    pytest.param("MY_API_KEY=abc123 --api-key=xyz DB_PASSWORD='a b' X_AUTH=q", "MY_API_KEY=<secret> --api-key=<secret> DB_PASSWORD=<secret> X_AUTH=<secret>",
                 id="secret-names"),
    pytest.param("client_secret=\"s p\"; ok=1", "client_secret=<secret>; ok=1", id="secret-name-quoted"),
    pytest.param("StrictHostKeyChecking=accept-new PubkeyAuthentication=yes PasswordAuthentication=no NAME=value",
                 "StrictHostKeyChecking=accept-new PubkeyAuthentication=yes PasswordAuthentication=no NAME=value", id="option-words-kept"),
    # Bearer, Basic, token
    pytest.param("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "Authorization: Bearer <secret>", id="bearer"),
    pytest.param("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic <secret>", id="basic"),
    pytest.param("basic authentication failed", "basic authentication failed", id="basic-word-kept"),
    pytest.param("Authorization: token ab12cd34ef56", "Authorization: token <secret>", id="token-word"),
    pytest.param("the token expired", "the token expired", id="token-word-kept"),
    pytest.param("x ghp_abcdefghijklmnopqrstuvwxyz0123 AKIAIOSFODNN7EXAMPLE glpat-abcdefghij0123456789",
                 "x <secret> <secret> <secret>", id="token-shapes"),
    # commands: the program name only
    pytest.param("proxycommand env HTTPS_PROXY=http://a:b@p:3128 nc %h %p", "proxycommand nc <arguments removed>", id="ssh-G-proxycommand"),
    pytest.param("    ProxyCommand=ssh -W %h:%p jump", "    ProxyCommand=ssh <arguments removed>", id="config-proxycommand"),
    pytest.param("ProxyCommand none", "ProxyCommand none", id="proxycommand-none"),
    pytest.param("localcommand curl -u carol:s3 https://x", "localcommand curl <arguments removed>", id="localcommand"),
    pytest.param("debug1: Executing proxy command: exec env A=b /usr/bin/nc 127.0.0.1 22",
                 "debug1: Executing proxy command: /usr/bin/nc <arguments removed>", id="executing-proxy"),
    pytest.param('debug3: Executing /bin/sh -c "curl -u a:b http://x"', 'debug3: Executing /bin/sh -c "curl <arguments removed>"',
                 id="executing-local"),
    # public addresses in other forms
    pytest.param("::ffff:93.199.55.163 and [::ffff:5dc7:37a3]:22", "<IPv4-mapped 93.199.0.0/16> and [<IPv4-mapped 93.199.0.0/16>]:22",
                 id="ipv4-mapped"),
    pytest.param("from 2002:5dc7:37a3::1", "from <6to4 93.199.0.0/16>", id="6to4"),
    pytest.param("2001:0:4136:e378:8000:63bf:a238:c85c", "<Teredo 93.199.0.0/16>", id="teredo"),
    pytest.param("64:ff9b::5dc7:37a3 ::93.199.55.163", "<NAT64 93.199.0.0/16> <IPv4-compatible 93.199.0.0/16>", id="nat64-compatible"),
    pytest.param("093.199.055.163 and 0093.0199.0055.0163:22", "93.199.0.0/16 and 93.199.0.0/16:22", id="zero-padded"),
    pytest.param("0127.0.0.1", "87.0.0.0/16", id="zero-padded-octal-public"),
    pytest.param("2a00:1450:4001:080b:0000:0000:0000:200e", "2a00:1450:4001::/48", id="zero-padded-v6"),
    pytest.param("::ffff:10.0.0.1 ::1 :: 300.1.1.1 1.2.3.4.5 [14:30:01.123]", "::ffff:10.0.0.1 ::1 :: 300.1.1.1 1.2.3.4.5 [14:30:01.123]",
                 id="not-public-or-not-addresses"),
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


@pytest.mark.parametrize("form", ["p@ss w/rd+\"q", 'p@ss w/rd+\\"q', "p%40ss%20w%2Frd%2B%22q", "p%40ss+w%2Frd%2B%22q", "cEBzcyB3L3JkKyJx"])
def test_a_given_secret_is_masked_and_refused_in_every_encoding(form: str) -> None:
    red = Redactor.create(homes=[], users=[], secrets=['p@ss w/rd+"q'])
    assert red.text(f"x {form} y") == "x <secret> y"
    with pytest.raises(Refused, match="still contains a secret"):
        check_clean(f"x {form} y", red.secrets)


def test_value_walks_json() -> None:
    doc = {"ssh_g": {"alice-laptop": ["hostname 93.199.55.163"]}, "n": 3, "x": None, "l": ("alice",)}
    assert R.value(doc) == {"ssh_g": {"<host>": ["hostname 93.199.0.0/16"]}, "n": 3, "x": None, "l": ["<user>"]}


@pytest.mark.parametrize("unit", ["a-", "key-", "a:", "1.", "a=", "Basic ", "token ", "ab", 'a="', "SetEnv A=b ", "http://a ",
                                  "ProxyCommand=x ", "/home/", "passphrase: ", "ssh-ed25519 AAAA", "::ffff:1.2.3.4 "])
def test_redaction_is_linear_on_hostile_text(unit: str) -> None:
    """100,000 characters of one repeated shape: a quadratic pattern would take minutes, a linear one well under a second."""
    import time

    text = unit * (100_000 // len(unit))
    t0 = time.monotonic()
    R.text(text)
    assert time.monotonic() - t0 < 10
