"""Input checks for everything that ends up in ~/.ssh/config.

Anything that could change the meaning of the config is refused: whitespace,
newlines, ``#``, quotes, wildcards in aliases, and invalid host names.
"""

from __future__ import annotations

import ipaddress
import re

from sshsetup.errors import BadInput

_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PATTERN = re.compile(r"[A-Za-z0-9*?][A-Za-z0-9*?_.-]{0,252}")
_SITE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_ACCOUNT = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)


def shown(value: str) -> str:
    """A value as an error message shows it: quoted when it is empty or holds spaces, quotes or controls."""
    return repr(value) if not value or any(c.isspace() or not c.isprintable() or c in "'\"" for c in value) else value


def user(value: str, *, what: str = "--user") -> str:
    if not _USER.fullmatch(value):
        raise BadInput(
            f"{what} {shown(value)} is not a valid user name",
            hint="use your JSC user name as shown in JuDoor (letters, digits, '_', '.', '-'; no spaces or quotes)",
        )
    return value


def alias(value: str, *, what: str = "alias") -> str:
    if not _ALIAS.fullmatch(value):
        raise BadInput(
            f"{what} {shown(value)} is not a valid ssh alias",
            hint="use letters, digits, '.', '_' and '-' only (no wildcards, spaces, '#' or quotes)",
        )
    return value


def site_id(value: str) -> str:
    if not _SITE_ID.fullmatch(value):
        raise BadInput(
            f"site id {shown(value)} is not valid",
            hint="use lower-case letters, digits, '-' and '_' (see: sshsetup sites)",
        )
    return value


def account(value: str, *, what: str = "--account") -> str:
    """A Slurm account (JSC compute project): ASCII letters, digits, '_' and '-' only.

    It ends up in ``#SBATCH --account=``, in a task's ``srun`` line and in ``$PROJECT_<account>``
    on the cluster, so nothing a shell or Slurm could read differently passes.
    """
    if not _ACCOUNT.fullmatch(value):
        raise BadInput(
            f"{what} {shown(value)} is not a valid Slurm account",
            hint="give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500",
        )
    return value


def hostname(value: str, *, what: str = "hostname") -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        if "%" not in value:  # an IPv6 zone id ("fe80::1%eth0") would be a %-token to ssh
            return value
    import socket

    try:
        socket.inet_aton(value)  # "0", "1.2.3", "0x7f.1", "010.0.0.1": ssh connects to an IPv4 address
    except OSError:
        pass
    else:
        raise BadInput(
            f"{what} {shown(value)} is an IPv4 address in a short or octal/hex form",
            hint="write the address as four decimal numbers (e.g. 10.0.0.1) or give a DNS name",
        )
    labels = value.rstrip(".").split(".")
    if not value or len(value) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise BadInput(
            f"{what} {shown(value)} is not a valid host name",
            hint="give a DNS name such as login.example.org or an IP address",
        )
    return value


def host_pattern(value: str, *, what: str = "compute_node_pattern") -> str:
    if not _PATTERN.fullmatch(value) or "*" not in value and "?" not in value:
        raise BadInput(
            f"{what} {shown(value)} is not a valid host pattern",
            hint="use one ssh Host pattern with a wildcard, e.g. jwb*i.juwels",
        )
    last = value.rsplit(".", 1)[1] if "." in value else ""
    if not last or "*" in last or "?" in last:  # "*", "?", "a*", "*.x*" would catch hosts of the user's own
        raise BadInput(
            f"{what} {shown(value)} is too broad: it must end in a fixed domain part",
            hint="a compute-node pattern names the nodes of one cluster, e.g. jwb*i.juwels; "
                 "a wildcard at its end would send other hosts through the login node",
        )
    return value


def port(value: object, *, what: str = "port") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise BadInput(f"{what} {value!r} is not a valid TCP port", hint="use a number from 1 to 65535")
    return value


def config_path(value: str, *, what: str = "path") -> str:
    """A path written into ssh_config: no newline, no quote; '%' is escaped by the caller."""
    if not value or any(c in value for c in "\"'\r\n\t\0"):
        raise BadInput(
            f"{what} {shown(value)} cannot be written into ~/.ssh/config",
            hint="use a path without quotes, tabs or newlines",
        )
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def control_char(value: str) -> str | None:
    """The first control character (C0 incl. TAB/CR/LF/NUL/ESC, DEL, C1) in value, escaped; None if none."""
    m = _CONTROL.search(value)
    return None if m is None else repr(m.group())[1:-1]



PARTITION = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # the same pattern as jobscript's --partition


def partition(value: str, *, what: str = "partition") -> str:
    if not PARTITION.fullmatch(value):
        raise BadInput(f"{what} {shown(value)} is not a valid partition name",
                       hint="a Slurm partition name has letters, digits, '_', '.', '-' only (list them on the cluster: sinfo -s)")
    return value
