"""ed25519 keys in OpenSSH format, and checks of keys the user already has.

cryptography writes the private key: the openssh-key-v1 container, bcrypt KDF + aes256-ctr with
100 rounds as in JSC's ``ssh-keygen -a 100`` recipe. It writes an empty comment into the private
key; the ``.pub`` keeps the comment, and ``ssh-add -l`` shows the key's path instead.
Nothing here prints, logs or stores a passphrase.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from sshsetup.errors import BadInput, Refused

KDF_ROUNDS = 100
_MAGIC = b"openssh-key-v1\x00"


@dataclass(frozen=True)
class NewKey:
    private_pem: bytes  # the whole private key file
    public_line: str  # "ssh-ed25519 AAAA... comment\n"


def generate(passphrase: bytes | None, comment: str, rounds: int = KDF_ROUNDS) -> NewKey:
    """A new ed25519 key: the private key file (encrypted unless ``passphrase`` is empty) and the .pub line."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    encryption: ser.KeySerializationEncryption = (
        ser.PrivateFormat.OpenSSH.encryption_builder().kdf_rounds(rounds).build(passphrase) if passphrase else ser.NoEncryption()
    )
    pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.OpenSSH, encryption)
    public = key.public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH).decode("ascii")
    return NewKey(pem, f"{public} {comment}\n")


def write_new_key(path: Path, key: NewKey) -> None:
    """Create the private key, mode 0600 from the first byte, never over an existing file.

    The bytes go to a temp file in the same directory (``mkstemp``: O_EXCL, 0600), are
    fsynced, then ``os.link``-ed to the final name, which is atomic and fails if the name
    exists: a crash leaves either no key or the whole key, never a partial one.
    """
    import tempfile

    from sshsetup.files import atomic_write, checkpoint, set_mode

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.path.lexists(path):
        raise Refused(f"{path} already exists; sshsetup never overwrites a key", hint=f"reuse it with --key {path}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".sshsetup-tmp")
    try:
        set_mode(fd, tmp, 0o600)  # mkstemp's default; an unusual umask or ACL cannot widen it
        checkpoint("key-opened")
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.private_pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise Refused(f"{path} already exists; sshsetup never overwrites a key", hint=f"reuse it with --key {path}") from None
    finally:
        os.unlink(tmp)
    checkpoint("key-written")
    atomic_write(Path(str(path) + ".pub"), key.public_line.encode(), 0o644)


def fingerprint(public_line: str) -> str:
    """SHA256 fingerprint exactly as ``ssh-keygen -l`` prints it."""
    blob = base64.b64decode(public_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@dataclass(frozen=True)
class KeyInfo:
    path: Path
    type: str  # ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ...
    bits: int
    encrypted: bool | None  # None: unknown (e.g. PuTTY format)
    public_line: str  # "type base64 [comment]"
    comment: str

    @property
    def label(self) -> str:
        names = {"ssh-ed25519": "ED25519", "ssh-rsa": "RSA", "ssh-dss": "DSA"}
        t = names.get(self.type) or ("ECDSA" if self.type.startswith("ecdsa") else self.type.upper())
        if self.type.startswith("sk-"):
            t = "ED25519-SK" if "ed25519" in self.type else "ECDSA-SK"
        return t

    def keygen_line(self) -> str:
        """What ``ssh-keygen -l -f KEY.pub`` prints."""
        return f"{self.bits} {fingerprint(self.public_line)} {self.comment or 'no comment'} ({self.label})"


def _bits(key_type: str, blob: bytes) -> int:
    if key_type == "ssh-rsa":
        off = 0
        parts = []
        for _ in range(3):
            (n,) = struct.unpack(">I", blob[off : off + 4])
            parts.append(blob[off + 4 : off + 4 + n])
            off += 4 + n
        return int.from_bytes(parts[2], "big").bit_length()
    if key_type == "ssh-dss":
        return 1024
    for curve, bits in (("nistp256", 256), ("nistp384", 384), ("nistp521", 521)):
        if curve in key_type:
            return bits
    return 256


def _openssh_header(data: bytes) -> tuple[bool, bytes] | None:
    """(encrypted, public blob) from an openssh-key-v1 file, without the passphrase."""
    text = data.decode("ascii", errors="replace")
    if "BEGIN OPENSSH PRIVATE KEY" not in text:
        return None
    b64 = "".join(ln for ln in text.splitlines() if ln and not ln.startswith("-----"))
    try:
        blob = base64.b64decode(b64)
    except ValueError:
        return None
    if not blob.startswith(_MAGIC):
        return None
    off = len(_MAGIC)
    fields = []
    for _ in range(3):
        (n,) = struct.unpack(">I", blob[off : off + 4])
        fields.append(blob[off + 4 : off + 4 + n])
        off += 4 + n
    off += 4  # number of keys
    (n,) = struct.unpack(">I", blob[off : off + 4])
    return fields[0] != b"none", blob[off + 4 : off + 4 + n]


KEY_FILE_LIMIT = 64 * 1024  # an RSA-16384 private key is about 12 KiB


def inspect_key(path: Path) -> KeyInfo:
    """Type, size, encryption and matching .pub of an existing private key (no passphrase needed)."""
    from sshsetup.userfile import read_regular

    if not os.path.lexists(path):
        raise BadInput(f"key {path} does not exist", hint="give the private key file (not the .pub) with --key")
    data = read_regular(path, limit=KEY_FILE_LIMIT, what="key")  # never a FIFO or a device: no hang, no unbounded read
    if data.lstrip().startswith((b"ssh-", b"ecdsa-", b"sk-")):
        raise BadInput(f"{path} is a public key", hint="give the private key file with --key (without .pub)")
    pub_path = Path(str(path) + ".pub")
    pub_line = (read_regular(pub_path, limit=KEY_FILE_LIMIT, what="public key").decode("utf-8", "replace").strip()
                if pub_path.is_file() else "")
    try:
        header = _openssh_header(data)
    except struct.error:  # cut short, e.g. by a crash while it was written
        raise BadInput(f"{path} is an incomplete OpenSSH private key", hint=f"move it away and run sshsetup init again: mv {path} {path}.broken") from None
    encrypted: bool | None
    if header is not None:
        encrypted, blob = header
        (n,) = struct.unpack(">I", blob[:4])
        key_type = blob[4 : 4 + n].decode()
        embedded = f"{key_type} {base64.b64encode(blob).decode()}"
        if pub_line and pub_line.split()[:2] != embedded.split():
            raise Refused(
                f"{pub_path} does not match the private key {path}",
                hint=f"regenerate it: ssh-keygen -y -f {path} > {pub_path}",
            )
        pub_line = pub_line or embedded
    elif b"BEGIN" in data and b"PRIVATE KEY" in data:
        encrypted = b"ENCRYPTED" in data
        if not pub_line:
            raise BadInput(f"{path} has no {pub_path.name} beside it", hint=f"create it: ssh-keygen -y -f {path} > {pub_path}")
    elif data.startswith(b"PuTTY-User-Key-File"):
        raise BadInput(f"{path} is a PuTTY key", hint=f"convert it to OpenSSH format: puttygen {path} -O private-openssh -o {path}.openssh")
    else:
        raise BadInput(f"{path} is not an SSH private key", hint="give the private key file with --key")
    parts = pub_line.split(None, 2)
    try:  # a hand-made or cut-short .pub beside a PEM key
        bits = _bits(parts[0], base64.b64decode(parts[1], validate=True))
    except (IndexError, ValueError, struct.error):
        raise BadInput(f"{pub_path} is not a valid public key", hint=f"regenerate it: ssh-keygen -y -f {path} > {pub_path}") from None
    info = KeyInfo(path, parts[0], bits, encrypted, " ".join(parts[:2]), parts[2] if len(parts) > 2 else "")
    if info.type == "ssh-dss":
        raise BadInput(f"{path} is a DSA key, which OpenSSH no longer accepts", hint="let sshsetup create an ed25519 key (omit --key)")
    if info.type == "ssh-rsa" and info.bits < 3072:
        raise BadInput(f"{path} is a {info.bits}-bit RSA key; at least 3072 bits are needed", hint="let sshsetup create an ed25519 key (omit --key)")
    return info
