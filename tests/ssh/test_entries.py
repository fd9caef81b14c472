"""sshsetup.ssh.entries: what each managed Host entry sets, per ssh client."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.catalogue import parse_sites
from sshsetup.errors import BadInput
from sshsetup.ssh import entries
from sshsetup.ssh.entries import EntryOptions

SITES = parse_sites(
    '[sites.x]\nname = "X Cluster"\nhostname = "x.example.org"\nalias = "jsc-x"\naddress_family = "inet"\n'
    'compute_node_pattern = "x*.nodes"\n'
    '[sites.y]\nhostname = "y.example.org"\nport = 2222\n',
    "test", "test.toml",
)


def opts(**kw: object) -> EntryOptions:
    base: dict[str, object] = {"user": "smith1", "identity_file": "~/.ssh/id_ed25519_jsc", "windows_client": False,
                               "control_dir": "~/.ssh/cm", "compute_nodes": False, "address_family": {}}
    return EntryOptions(**{**base, **kw})  # type: ignore[arg-type]


COMMON = (("User", "smith1"), ("IdentityFile", "~/.ssh/id_ed25519_jsc"), ("IdentitiesOnly", "yes"), ("AddKeysToAgent", "yes"))
ALIVE = (("ServerAliveInterval", "60"), ("ServerAliveCountMax", "5"))
MUX = (("ControlMaster", "auto"), ("ControlPath", "~/.ssh/cm/%C"), ("ControlPersist", "10m"))


def test_openssh_entries() -> None:
    x, y = entries.site_entries([SITES["x"], SITES["y"]], opts())
    assert (x.pattern, x.comment) == ("jsc-x", "X Cluster (x)")
    assert x.options == (("HostName", "x.example.org"), ("Port", "22"), *COMMON, ("AddressFamily", "inet"), *ALIVE, *MUX)
    assert (y.pattern, y.comment) == ("y", "y (y)")
    assert y.options == (("HostName", "y.example.org"), ("Port", "2222"), *COMMON, *ALIVE, *MUX)


def test_windows_client_gets_macs_and_no_multiplexing() -> None:
    (x,) = entries.site_entries([SITES["x"]], opts(windows_client=True, control_dir=None))
    assert x.options[-1] == ("MACs", "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com")
    assert not {k for k, _ in x.options} & {"ControlMaster", "ControlPath", "ControlPersist"}


def test_no_control_dir_no_multiplexing_and_family_override() -> None:
    (x,) = entries.site_entries([SITES["x"]], opts(control_dir=None, address_family={"jsc-x": "any"}))
    assert x.options == (("HostName", "x.example.org"), ("Port", "22"), *COMMON, *ALIVE)
    (x,) = entries.site_entries([SITES["x"]], opts(control_dir=None, address_family={"jsc-x": "inet6"}))
    assert x.options == (("HostName", "x.example.org"), ("Port", "22"), *COMMON, ("AddressFamily", "inet6"), *ALIVE)


def test_macos_keychain() -> None:
    (x,) = entries.site_entries([SITES["y"]], opts(macos_keychain=True))
    assert x.options[6:8] == (("IgnoreUnknown", "UseKeychain"), ("UseKeychain", "yes"))


def test_compute_nodes_jump_through_the_login_alias() -> None:
    got = entries.site_entries([SITES["x"], SITES["y"]], opts(compute_nodes=True, identity_file="/a b/%h"))
    assert [e.pattern for e in got] == ["jsc-x", "y", "x*.nodes"]  # y has no compute node pattern
    nodes = got[-1]
    assert nodes.comment == "X Cluster compute nodes, through jsc-x"
    assert nodes.options == (("User", "smith1"), ("IdentityFile", "/a b/%%h"), ("IdentitiesOnly", "yes"), ("ProxyJump", "jsc-x"),
                             ("StrictHostKeyChecking", "accept-new"))
    *_, win_nodes = entries.site_entries([SITES["x"]], opts(compute_nodes=True, windows_client=True, control_dir=None))
    assert win_nodes.options[-1] == ("MACs", "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com")


def test_config_path_value() -> None:
    assert entries.config_path_value("~/.ssh/id%1") == "~/.ssh/id%%1"
    with pytest.raises(BadInput) as exc:
        entries.config_path_value('~/a"b')
    assert (exc.value.message, exc.value.hint) == ("path '~/a\"b' cannot be written into ~/.ssh/config", "use a path without quotes, tabs or newlines")


def test_control_dir_fits_a_unix_socket_path() -> None:
    # "<dir>/<40 hex of %C>.<16 random>" must stay below sun_path's 108 bytes
    assert entries.control_dir_fits(Path("/" + "d" * 48)) is True  # 49 + 1 + 40 + 17 = 107
    assert entries.control_dir_fits(Path("/" + "d" * 49)) is False
