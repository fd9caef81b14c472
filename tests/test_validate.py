"""sshsetup.validate: what may reach ~/.ssh/config, with the exact refusal and hint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sshsetup import validate
from sshsetup.errors import BadInput


def refusal(fn: Callable[[], object]) -> tuple[str, str | None]:
    with pytest.raises(BadInput) as exc:
        fn()
    return exc.value.message, exc.value.hint


USER_HINT = "use your JSC user name as shown in JuDoor (letters, digits, '_', '.', '-'; no spaces or quotes)"
ALIAS_HINT = "use letters, digits, '.', '_' and '-' only (no wildcards, spaces, '#' or quotes)"
HOST_HINT = "give a DNS name such as login.example.org or an IP address"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("smith1", "smith1"), ("", "''"), ("a b", "'a b'"), ("a\nb", "'a\\nb'"), ("x'y", '"x\'y"'), ("a#b", "a#b"), ("é", "é")],
)
def test_shown(value: str, expected: str) -> None:
    assert validate.shown(value) == expected


def test_user() -> None:
    assert validate.user("smith1") == "smith1"
    assert validate.user("_a.b-c") == "_a.b-c"
    assert validate.user("a" * 64) == "a" * 64
    assert refusal(lambda: validate.user("a" * 65)) == (f"--user {'a' * 65} is not a valid user name", USER_HINT)
    assert refusal(lambda: validate.user("-x")) == ("--user -x is not a valid user name", USER_HINT)
    assert refusal(lambda: validate.user("smïth")) == ("--user smïth is not a valid user name", USER_HINT)  # ASCII only
    assert refusal(lambda: validate.user("a b", what="user")) == ("user 'a b' is not a valid user name", USER_HINT)


def test_alias() -> None:
    assert validate.alias("jsc-booster") == "jsc-booster"
    assert validate.alias("a" * 63) == "a" * 63
    assert refusal(lambda: validate.alias("a" * 64)) == (f"alias {'a' * 64} is not a valid ssh alias", ALIAS_HINT)
    assert refusal(lambda: validate.alias("x*")) == ("alias x* is not a valid ssh alias", ALIAS_HINT)
    assert refusal(lambda: validate.alias("_x")) == ("alias _x is not a valid ssh alias", ALIAS_HINT)
    assert refusal(lambda: validate.alias("", what="--alias")) == ("--alias '' is not a valid ssh alias", ALIAS_HINT)


def test_site_id() -> None:
    assert validate.site_id("juwels-booster") == "juwels-booster"
    assert refusal(lambda: validate.site_id("Juwels")) == (
        "site id Juwels is not valid", "use lower-case letters, digits, '-' and '_' (see: sshsetup sites)")


@pytest.mark.parametrize("value", ["login.example.org", "login.example.org.", "a", "10.0.0.1", "2001:db8::1", "x-1.y", "a" * 63 + ".org"])
def test_hostname_accepted(value: str) -> None:
    assert validate.hostname(value) == value


@pytest.mark.parametrize("value", ["-a.org", "a-.org", "a..org", "", "a b", "a_b.org", "a" * 64 + ".org", ("a" * 60 + ".") * 5 + "org",
                                   "fe80::1%eth0", "a%h"])
def test_hostname_refused(value: str) -> None:
    assert refusal(lambda: validate.hostname(value)) == (f"hostname {validate.shown(value)} is not a valid host name", HOST_HINT)


@pytest.mark.parametrize("value", ["0", "1.2.3", "0x7f.1", "010.0.0.1", "127.1"])
def test_hostname_short_ipv4_refused(value: str) -> None:
    assert refusal(lambda: validate.hostname(value, what="--host")) == (
        f"--host {value} is an IPv4 address in a short or octal/hex form",
        "write the address as four decimal numbers (e.g. 10.0.0.1) or give a DNS name",
    )


def test_host_pattern() -> None:
    assert validate.host_pattern("jwb*i.juwels") == "jwb*i.juwels"
    assert validate.host_pattern("node??.cluster") == "node??.cluster"
    broad = ("a compute-node pattern names the nodes of one cluster, e.g. jwb*i.juwels; a wildcard at its end would send "
             "other hosts through the login node")
    assert refusal(lambda: validate.host_pattern("node??")) == ("compute_node_pattern node?? is too broad: it must end in a "
                                                                "fixed domain part", broad)
    hint = "use one ssh Host pattern with a wildcard, e.g. jwb*i.juwels"
    assert refusal(lambda: validate.host_pattern("jwb.juwels")) == ("compute_node_pattern jwb.juwels is not a valid host pattern", hint)
    assert refusal(lambda: validate.host_pattern("a* b")) == ("compute_node_pattern 'a* b' is not a valid host pattern", hint)
    assert refusal(lambda: validate.host_pattern("!a*")) == ("compute_node_pattern !a* is not a valid host pattern", hint)


def test_port() -> None:
    assert (validate.port(1), validate.port(22), validate.port(65535)) == (1, 22, 65535)
    for bad in (0, 65536, -1, True, "22", 22.0):
        assert refusal(lambda bad=bad: validate.port(bad)) == (f"port {bad!r} is not a valid TCP port", "use a number from 1 to 65535")


def test_config_path() -> None:
    assert validate.config_path("~/.ssh/id 1%h") == "~/.ssh/id 1%h"  # spaces are quoted and '%' escaped by the caller
    for bad in ("", "a\"b", "a'b", "a\nb", "a\rb", "a\tb", "a\0b"):
        assert refusal(lambda bad=bad: validate.config_path(bad, what="--key")) == (
            f"--key {validate.shown(bad)} cannot be written into ~/.ssh/config", "use a path without quotes, tabs or newlines")


@pytest.mark.parametrize(
    ("value", "found"),
    [("plain text é", None), ("a\tb", "\\t"), ("a\nb\x1b", "\\n"), ("\x00", "\\x00"), ("\x7f", "\\x7f"), ("a\x85", "\\x85"),
     ("\x9f", "\\x9f"), ("\xa0", None)],
)
def test_control_char(value: str, found: str | None) -> None:
    assert validate.control_char(value) == found


def test_partition() -> None:
    assert validate.partition("develbooster") == "develbooster"
    assert validate.partition("a" * 64) == "a" * 64
    hint = "a Slurm partition name has letters, digits, '_', '.', '-' only (list them on the cluster: sinfo -s)"
    assert refusal(lambda: validate.partition("a" * 65)) == (f"partition {'a' * 65} is not a valid partition name", hint)
    assert refusal(lambda: validate.partition("a';sh")) == ("partition \"a';sh\" is not a valid partition name", hint)
    assert refusal(lambda: validate.partition("", what="--partition")) == ("--partition '' is not a valid partition name", hint)
