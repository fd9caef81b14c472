from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from sshsetup.errors import BadInput, Refused
from sshsetup.ssh import keys
from tests.helpers import snapshot
from tests.timing import scaled

PW = b"correct horse battery"


def keygen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh-keygen", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def new_key() -> keys.NewKey:
    return keys.generate(PW, "alice@laptop")


def test_generated_key_is_read_by_ssh_keygen(tmp_path: Path, new_key: keys.NewKey) -> None:
    p = tmp_path / ".ssh" / "id_ed25519_jsc"
    keys.write_new_key(p, new_key)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700
    assert Path(str(p) + ".pub").read_text() == new_key.public_line
    assert sorted(x.name for x in p.parent.iterdir()) == ["id_ed25519_jsc", "id_ed25519_jsc.pub"]  # no temp file left
    got = keygen("-y", "-P", PW.decode(), "-f", str(p))
    # the private key carries no comment (cryptography writes an empty one); the .pub has it
    assert (got.returncode, got.stdout) == (0, new_key.public_line.rsplit(" ", 1)[0] + "\n")
    assert new_key.public_line.endswith(" alice@laptop\n")
    assert keygen("-y", "-P", "wrong passphrase", "-f", str(p)).returncode != 0
    assert keygen("-y", "-P", "", "-f", str(p)).returncode != 0  # it really is encrypted
    listed = keygen("-l", "-f", str(p) + ".pub").stdout
    assert listed == f"256 {keys.fingerprint(new_key.public_line)} alice@laptop (ED25519)\n"
    assert keys.inspect_key(p).keygen_line() == listed.strip()
    assert new_key.private_pem.count(b"\n") > 3 and b"alice" not in new_key.private_pem


def test_generated_key_is_read_by_cryptography(new_key: keys.NewKey) -> None:
    """A second, independent oracle beside ssh-keygen: cryptography's own OpenSSH reader."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    loaded = ser.load_ssh_private_key(new_key.private_pem, password=PW)
    assert isinstance(loaded, Ed25519PrivateKey)
    public = loaded.public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH).decode()
    assert f"{public} alice@laptop\n" == new_key.public_line
    with pytest.raises(ValueError, match="Corrupt data: broken checksum"):
        ser.load_ssh_private_key(new_key.private_pem, password=b"wrong passphrase")
    with pytest.raises(TypeError, match="Key is password-protected"):
        ser.load_ssh_private_key(new_key.private_pem, password=None)


def test_kdf_rounds_are_100(new_key: keys.NewKey) -> None:
    import base64
    import struct

    blob = base64.b64decode(b"".join(new_key.private_pem.splitlines()[1:-1]))
    off = len(b"openssh-key-v1\0")
    fields = []
    for _ in range(3):
        (n,) = struct.unpack(">I", blob[off : off + 4])
        fields.append(blob[off + 4 : off + 4 + n])
        off += 4 + n
    assert fields[0:2] == [b"aes256-ctr", b"bcrypt"]
    assert len(fields[2]) == 4 + 16 + 4  # salt of 16 bytes, then the rounds
    assert struct.unpack(">I", fields[2][-4:]) == (100,)


def test_every_key_is_new(new_key: keys.NewKey) -> None:
    other = keys.generate(PW, "alice@laptop", rounds=2)
    assert other.public_line != new_key.public_line and other.private_pem != new_key.private_pem


def test_unencrypted_key_in_agent_shows_its_path(tmp_path: Path) -> None:
    k = keys.generate(None, "bob@box")
    assert k.public_line.startswith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI") and k.public_line.endswith(" bob@box\n")
    p = tmp_path / "k"
    keys.write_new_key(p, k)
    assert keygen("-y", "-P", "", "-f", str(p)).stdout == k.public_line.removesuffix(" bob@box\n") + "\n"
    from cryptography.hazmat.primitives import serialization as ser

    assert ser.load_ssh_private_key(p.read_bytes(), password=None) is not None
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(int(scaled(100))):  # 2 s on an idle machine
            if sock.exists():
                break
            time.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", str(p)], env=env, capture_output=True, check=True, stdin=subprocess.DEVNULL)
        listed = subprocess.run(["ssh-add", "-l"], env=env, capture_output=True, text=True, check=True).stdout
        # the private key has no comment, so ssh-add names the key by its path (README, "Keys")
        assert listed == f"256 {keys.fingerprint(k.public_line)} {p} (ED25519)\n"
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(5)


def test_new_key_is_0600_whatever_the_umask(tmp_path: Path, new_key: keys.NewKey) -> None:
    old = os.umask(0)
    try:
        p = tmp_path / "wide" / "id"
        keys.write_new_key(p, new_key)
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(str(p) + ".pub").stat().st_mode) == 0o644
    assert p.read_bytes() == new_key.private_pem


def test_never_overwrites_a_key(tmp_path: Path, new_key: keys.NewKey) -> None:
    d = tmp_path / "keys"
    d.mkdir()
    p = d / "id"
    p.write_bytes(b"precious")
    (d / "dangling").symlink_to(d / "nowhere")
    before = snapshot(d)
    for existing in (p, d / "dangling"):
        with pytest.raises(Refused) as exc:
            keys.write_new_key(existing, new_key)
        assert (exc.value.message, exc.value.hint) == (f"{existing} already exists; sshsetup never overwrites a key", f"reuse it with --key {existing}")
        assert snapshot(d) == before


def _make(tmp_path: Path, *args: str, name: str = "k") -> Path:
    p = tmp_path / name
    r = keygen("-q", "-f", str(p), "-C", "c@d", *args)
    assert r.returncode == 0, r.stderr
    return p


@pytest.mark.parametrize(
    ("args", "label", "bits", "encrypted"),
    [
        pytest.param(("-t", "ed25519", "-N", ""), "ED25519", 256, False, id="ed25519-plain"),
        pytest.param(("-t", "ed25519", "-N", "secret-pass", "-a", "4"), "ED25519", 256, True, id="ed25519-encrypted"),
        pytest.param(("-t", "rsa", "-b", "3072", "-N", ""), "RSA", 3072, False, id="rsa-3072"),
        pytest.param(("-t", "ecdsa", "-b", "256", "-N", "secret-pass"), "ECDSA", 256, True, id="ecdsa"),
        pytest.param(("-t", "rsa", "-b", "3072", "-m", "PEM", "-N", "secret-pass"), "RSA", 3072, True, id="rsa-pem-encrypted"),
    ],
)
def test_inspect_existing_keys(tmp_path: Path, args: tuple[str, ...], label: str, bits: int, encrypted: bool) -> None:
    p = _make(tmp_path, *args)
    info = keys.inspect_key(p)
    assert (info.label, info.bits, info.encrypted, info.comment) == (label, bits, encrypted, "c@d")
    assert info.keygen_line() == keygen("-l", "-f", str(p) + ".pub").stdout.strip()


def test_refused_keys(tmp_path: Path) -> None:
    small = _make(tmp_path, "-t", "rsa", "-b", "2048", "-N", "", name="small")
    with pytest.raises(BadInput, match="2048-bit RSA key; at least 3072 bits"):
        keys.inspect_key(small)
    with pytest.raises(BadInput, match="is a public key"):
        keys.inspect_key(Path(str(small) + ".pub"))
    with pytest.raises(BadInput, match="does not exist"):
        keys.inspect_key(tmp_path / "nope")
    junk = tmp_path / "junk"
    junk.write_text("hello\n")
    with pytest.raises(BadInput, match="is not an SSH private key"):
        keys.inspect_key(junk)
    a = _make(tmp_path, "-t", "ed25519", "-N", "", name="a")
    b = _make(tmp_path, "-t", "ed25519", "-N", "", name="b")
    Path(str(a) + ".pub").write_bytes(Path(str(b) + ".pub").read_bytes())
    with pytest.raises(Refused, match="does not match the private key"):
        keys.inspect_key(a)
    pem = _make(tmp_path, "-t", "rsa", "-b", "3072", "-m", "PEM", "-N", "", name="pem")
    Path(str(pem) + ".pub").unlink()
    with pytest.raises(BadInput, match="has no pem.pub beside it"):
        keys.inspect_key(pem)
    dsa = tmp_path / "dsa"
    dsa.write_text("-----BEGIN DSA PRIVATE KEY-----\nMIIB\n-----END DSA PRIVATE KEY-----\n")
    Path(str(dsa) + ".pub").write_text("ssh-dss AAAAB3NzaC1kc3MAAACBAP8= old@box\n")
    with pytest.raises(BadInput, match="is a DSA key"):
        keys.inspect_key(dsa)
