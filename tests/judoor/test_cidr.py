from __future__ import annotations

import ipaddress

import pytest

from sshsetup.errors import EXIT_USAGE, BadInput, SshSetupError
from sshsetup.judoor import cidr
from sshsetup.judoor.cidr import Kind, Policy, Ranges

net = ipaddress.ip_network
ip = ipaddress.ip_address
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx2b3ZlbHkga2V5IGZvciB0ZXN0cw== me@laptop"


@pytest.mark.parametrize(
    ("text", "expected", "note"),
    [
        pytest.param("1.2.3.4", "1.2.3.4/32", None, id="v4-address"),
        pytest.param("1.2.3.0/24", "1.2.3.0/24", None, id="v4-cidr"),
        pytest.param(" 1.2.3.0/24 ", "1.2.3.0/24", None, id="outer-whitespace"),
        pytest.param("2001:db8::/48", "2001:db8::/48", None, id="v6-cidr"),
        pytest.param("2001:DB8:0:0::/48", "2001:db8::/48", None, id="v6-uppercase"),
        pytest.param("::1", "::1/128", None, id="v6-loopback"),
        pytest.param("10.0.0.0/8", "10.0.0.0/8", None, id="v4-widest-allowed"),
        pytest.param("2001:db8::/32", "2001:db8::/32", None, id="v6-widest-allowed"),
        pytest.param(
            "127.0.0.1/8", "127.0.0.0/8",
            "127.0.0.1/8 has host bits set (sshd would never match it); using 127.0.0.0/8", id="host-bits-v4",
        ),
        pytest.param(
            "2001:db8::1/48", "2001:db8::/48",
            "2001:db8::1/48 has host bits set (sshd would never match it); using 2001:db8::/48", id="host-bits-v6",
        ),
    ],
)
def test_parse_range(text, expected, note):
    assert cidr.parse_range(text) == (net(expected), note)


REFUSED = [
    pytest.param("1.2.3.4/33", "--from '1.2.3.4/33': prefix length /33 is invalid for IPv4 (0-32)", id="prefix-33"),
    pytest.param("::1/129", "--from '::1/129': prefix length /129 is invalid for IPv6 (0-128)", id="prefix-129"),
    pytest.param("1.2.3.4/", "--from '1.2.3.4/': prefix length / is invalid for IPv4 (0-32)", id="prefix-empty"),
    pytest.param(
        "login.example.org", "--from 'login.example.org': hostnames are not allowed; JSC needs addresses or CIDRs",
        id="hostname",
    ),
    pytest.param("localhost", "--from 'localhost': hostnames are not allowed; JSC needs addresses or CIDRs", id="localhost"),
    pytest.param("*", "--from '*': wildcards are not allowed; give an address or CIDR", id="star"),
    pytest.param("192.168.1.?", "--from '192.168.1.?': wildcards are not allowed; give an address or CIDR", id="qmark"),
    pytest.param("", "--from '': empty value", id="empty-value"),
    pytest.param("   ", "--from '   ': empty value", id="blank-value"),
    pytest.param('"1.2.3.4"', "--from '\"1.2.3.4\"': quotes are not allowed (sshsetup adds them)", id="double-quote"),
    pytest.param("1.2.3.4'", "--from \"1.2.3.4'\": quotes are not allowed (sshsetup adds them)", id="single-quote"),
    pytest.param(
        "1.2.3.4,5.6.7.8", "--from '1.2.3.4,5.6.7.8': one range per value; a comma would split it", id="comma"
    ),
    pytest.param("1.2.3.4 /24", "--from '1.2.3.4 /24': whitespace inside the value", id="inner-space"),
    pytest.param("1.2.3.4\t5", "--from '1.2.3.4\\t5': whitespace inside the value", id="inner-tab"),
    pytest.param("!1.2.3.4", "--from '!1.2.3.4': negation is not supported (it would deny, not allow)", id="negation"),
    pytest.param("fe80::1%eth0", "--from 'fe80::1%eth0': a zone index (%) is not allowed", id="zone-index"),
    pytest.param("1.2.3", "--from '1.2.3': not an IP address or CIDR", id="short-v4"),
    pytest.param("01.2.3.4", "--from '01.2.3.4': not an IP address or CIDR", id="leading-zero"),
    pytest.param("0.0.0.0/0", "--from '0.0.0.0/0': too broad (wider than /8 for IPv4)", id="v4-everything"),
    pytest.param("::/0", "--from '::/0': too broad (wider than /32 for IPv6)", id="v6-everything"),
    pytest.param("10.0.0.0/7", "--from '10.0.0.0/7': too broad (wider than /8 for IPv4)", id="v4-slash7"),
    pytest.param("2001:db8::/31", "--from '2001:db8::/31': too broad (wider than /32 for IPv6)", id="v6-slash31"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_parse_range_refuses(text, message):
    with pytest.raises(BadInput) as exc:
        cidr.parse_range(text)
    assert exc.value.message == message
    assert exc.value.hint
    assert exc.value.exit_code == EXIT_USAGE
    assert "\n" not in exc.value.message


def test_empty_list_is_refused():
    with pytest.raises(BadInput, match="no ranges given") as exc:
        cidr.parse_ranges([])
    assert exc.value.hint == "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"


def test_parse_ranges_normalises_dedups_and_drops_covered():
    got = cidr.parse_ranges(["93.199.55.163/16", "10.0.0.0/8", "93.199.0.0/16", "10.1.2.0/24", "::1", "2001:db8::/48"])
    assert got == Ranges(
        (net("93.199.0.0/16"), net("10.0.0.0/8"), net("::1/128"), net("2001:db8::/48")),
        (
            "93.199.55.163/16 has host bits set (sshd would never match it); using 93.199.0.0/16",
            "dropped duplicate 93.199.0.0/16",
            "dropped 10.1.2.0/24: already covered by 10.0.0.0/8",
        ),
    )


def test_covered_range_listed_before_its_cover_is_dropped():
    assert cidr.parse_ranges(["1.2.3.4", "1.2.0.0/16"]).networks == (net("1.2.0.0/16"),)


def test_merge_keeps_notes_and_adds_internal():
    user = cidr.parse_ranges(["127.0.0.1/8"])
    got = cidr.merge(user, Ranges((cidr.INTERNAL,)), Ranges((net("10.3.0.0/16"),)))
    assert got.networks == (net("127.0.0.0/8"), net("10.0.0.0/8"))
    assert got.notes == (user.notes[0], "dropped 10.3.0.0/16: already covered by 10.0.0.0/8")


def test_merge_named_ranges():
    named = {"home": ["93.199.0.0/16", "2003:e1::1/48"], "office": ["134.94.0.0/16"], "vpn": ["1.2.3.4"]}
    got = cidr.merge_named(cidr.parse_ranges(["1.2.3.4"]), named, ["home", "office", "vpn"])
    assert got.networks == (net("1.2.3.4/32"), net("93.199.0.0/16"), net("2003:e1::/48"), net("134.94.0.0/16"))
    assert got.notes == (
        "home: 2003:e1::1/48 has host bits set (sshd would never match it); using 2003:e1::/48",
        "dropped duplicate 1.2.3.4/32",
    )


def test_merge_named_unknown_name():
    with pytest.raises(BadInput, match="no named range 'cafe'") as exc:
        cidr.merge_named(Ranges(()), {"home": ["1.2.3.4"]}, ["cafe"])
    assert exc.value.hint == "known names: home"


def test_merge_named_bad_value_names_the_range():
    with pytest.raises(BadInput) as exc:
        cidr.merge_named(Ranges(()), {"office": ["*"]}, ["office"])
    assert exc.value.message == "named range 'office': --from '*': wildcards are not allowed; give an address or CIDR"


@pytest.mark.parametrize(
    ("address", "policy", "expected"),
    [
        pytest.param("93.199.55.163", Policy.EXACT, "93.199.55.163/32", id="v4-exact"),
        pytest.param("93.199.55.163", Policy.P24, "93.199.55.0/24", id="v4-24"),
        pytest.param("93.199.55.163", Policy.P16, "93.199.0.0/16", id="v4-16"),
        pytest.param("2003:e1:1234:5678:9abc::1", Policy.EXACT, "2003:e1:1234:5678:9abc::1/128", id="v6-exact"),
        pytest.param("2003:e1:1234:5678:9abc::1", Policy.P24, "2003:e1:1234:5678::/64", id="v6-24-is-64"),
        pytest.param("2003:e1:1234:5678:9abc::1", Policy.P16, "2003:e1:1234::/48", id="v6-16-is-48"),
    ],
)
def test_range_for(address, policy, expected):
    assert cidr.range_for(ip(address), policy) == net(expected)


def test_range_for_provider_needs_rdap():
    with pytest.raises(ValueError, match="provider_ranges"):
        cidr.range_for(ip("93.199.55.163"), Policy.PROVIDER)


def test_parse_policy():
    assert cidr.parse_policy("24") is Policy.P24
    with pytest.raises(BadInput, match="unknown range policy '8'"):
        cidr.parse_policy("8")


def test_provider_ranges_keeps_a_normal_block():
    got = cidr.provider_ranges(ip("93.199.55.163"), [net("93.192.0.0/10")])
    assert got == Ranges((net("93.192.0.0/10"),), ())


def test_provider_ranges_narrows_a_broad_v6_block():
    got = cidr.provider_ranges(ip("2003:e1::1"), [net("2003::/19")])
    assert got == Ranges((net("2003:e1::/32"),), ("provider block 2003::/19 is wider than /32; narrowed to 2003:e1::/32",))


def test_provider_ranges_drops_broad_blocks_without_the_address():
    got = cidr.provider_ranges(ip("5.1.2.3"), [net("6.0.0.0/7"), net("5.1.0.0/16"), net("::/64")])
    assert got.networks == (net("5.1.0.0/16"),)
    assert got.notes == ("dropped provider block 6.0.0.0/7: wider than /8", "ignored ::/64 from RDAP: other IP version")


def test_provider_ranges_refuses_the_whole_space():
    with pytest.raises(SshSetupError, match=r"whole address space \(0.0.0.0/0\)"):
        cidr.provider_ranges(ip("203.0.113.9"), [net("0.0.0.0/0")])


def test_provider_ranges_refuses_nothing_usable():
    with pytest.raises(SshSetupError, match="no usable provider block"):
        cidr.provider_ranges(ip("5.1.2.3"), [net("2001:db8::/32")])


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        pytest.param("93.199.55.163", Kind.PUBLIC, id="public-v4"),
        pytest.param("2003:e1::1", Kind.PUBLIC, id="public-v6"),
        pytest.param("10.1.2.3", Kind.PRIVATE, id="rfc1918-10"),
        pytest.param("172.20.0.1", Kind.PRIVATE, id="rfc1918-172"),
        pytest.param("192.168.178.20", Kind.PRIVATE, id="rfc1918-192"),
        pytest.param("100.64.0.1", Kind.CGNAT, id="cgnat-low"),
        pytest.param("100.127.255.254", Kind.CGNAT, id="cgnat-high"),
        pytest.param("127.0.0.1", Kind.LOOPBACK, id="loopback-v4"),
        pytest.param("127.3.4.5", Kind.LOOPBACK, id="loopback-v4-other"),
        pytest.param("::1", Kind.LOOPBACK, id="loopback-v6"),
        pytest.param("169.254.1.1", Kind.LINK_LOCAL, id="link-local-v4"),
        pytest.param("fe80::1", Kind.LINK_LOCAL, id="link-local-v6"),
        pytest.param("fd12:3456::1", Kind.ULA, id="ula"),
        pytest.param("192.0.2.7", Kind.DOCUMENTATION, id="doc-v4"),
        pytest.param("2001:db8::5", Kind.DOCUMENTATION, id="doc-v6"),
        pytest.param("0.0.0.0", Kind.OTHER, id="unspecified"),
        pytest.param("224.0.0.1", Kind.OTHER, id="multicast"),
        pytest.param("::ffff:93.199.55.163", Kind.OTHER, id="v4-mapped"),
    ],
)
def test_classify(address, kind):
    got = cidr.classify(address)
    assert got.kind is kind
    assert got.is_public is (kind is Kind.PUBLIC)
    assert (got.explanation == "") is (kind is Kind.PUBLIC)


def test_classify_explanations_name_the_cause():
    assert cidr.classify("100.64.0.1").explanation == (
        "100.64.0.1 is in 100.64.0.0/10 (carrier-grade NAT): your provider shares public addresses; "
        "an echo service on the internet can never see it, so the service is inside your network or wrong"
    )
    assert "NAT or a VPN" in cidr.classify("192.168.1.1").explanation
    assert "loopback" in cidr.classify("::1").explanation


def test_render_from_and_key_line():
    nets = (net("93.199.0.0/16"), net("10.0.0.0/8"), net("2003:e1::/48"))
    assert cidr.render_from(nets) == 'from="93.199.0.0/16,10.0.0.0/8,2003:e1::/48"'
    assert cidr.key_line(nets, KEY + "\n") == 'from="93.199.0.0/16,10.0.0.0/8,2003:e1::/48" ' + KEY


@pytest.mark.parametrize(
    ("nets", "pub", "message"),
    [
        pytest.param((), KEY, "no ranges for the key line", id="no-ranges"),
        pytest.param((net("0.0.0.0/0"),), KEY, "--from '0.0.0.0/0': too broad (wider than /8 for IPv4)", id="broad"),
        pytest.param((net("1.2.3.4/32"),), "", "the public key must be exactly one line", id="empty-key"),
        pytest.param((net("1.2.3.4/32"),), KEY + "\n" + KEY, "the public key must be exactly one line", id="two-keys"),
        pytest.param(
            (net("1.2.3.4/32"),), 'from="1.2.3.4" ' + KEY, "not an OpenSSH public key line: 'from=\"1.2.3.4\" ssh-ed25519 AAA'",
            id="already-has-options",
        ),
    ],
)
def test_key_line_refuses(nets, pub, message):
    with pytest.raises(BadInput) as exc:
        cidr.key_line(nets, pub)
    assert exc.value.message == message


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        pytest.param("127.0.0.1", True, id="inside-v4"),
        pytest.param("127.255.0.1", True, id="inside-v4-edge"),
        pytest.param("10.0.0.1", False, id="outside-v4"),
        pytest.param("::1", True, id="inside-v6"),
        pytest.param("::2", False, id="outside-v6"),
        pytest.param("::ffff:127.0.0.1", True, id="v4-mapped-counts-as-v4"),
    ],
)
def test_covers(address, expected):
    nets = (net("127.0.0.0/8"), net("::1/128"))
    assert cidr.covers(nets, address) is expected
    assert cidr.covers(nets, ip(address)) is expected


def test_ipv4_only_list_does_not_cover_ipv6():
    assert cidr.covers((net("127.0.0.0/8"),), "::1") is False


# Exact messages, hints and names that the mutation run (python -m tests.mutation) found unchecked.

FROM_HINT = "give one address or CIDR per --from, e.g. --from 93.199.0.0/16 --from 2001:db8::/48"
BROAD_HINT = "use a narrower range such as your provider's block or a /16"


@pytest.mark.parametrize(("text", "message"), REFUSED)
def test_parse_range_refusal_hints(text, message):
    with pytest.raises(BadInput) as exc:
        cidr.parse_range(text)
    assert exc.value.hint == (BROAD_HINT if "too broad" in message else FROM_HINT)


def test_a_mixed_case_hostname_is_named_as_a_hostname():
    with pytest.raises(BadInput) as exc:
        cidr.parse_range("Xeon.example.org")
    assert exc.value.message == "--from 'Xeon.example.org': hostnames are not allowed; JSC needs addresses or CIDRs"


def test_names_users_see_in_options_and_json():
    assert [p.value for p in Policy] == ["exact", "24", "16", "provider"]
    assert [k.value for k in Kind] == ["public", "private", "cgnat", "loopback", "link-local", "unique-local", "documentation",
                                       "special-purpose"]


def test_refusals_and_their_hints():
    def refusal(fn):
        with pytest.raises(SshSetupError) as exc:
            fn()
        return exc.value.message, exc.value.hint

    assert refusal(lambda: cidr.parse_ranges([])) == ("no ranges given", FROM_HINT)
    assert refusal(lambda: cidr.parse_policy("8")) == ("unknown range policy '8'", "use --range exact, 24, 16 or provider")
    assert refusal(lambda: cidr.merge_named(Ranges(()), {}, ["home"])) == ("no named range 'home'", "known names: none saved")
    assert refusal(lambda: cidr.merge_named(Ranges(()), {"b": [], "a": []}, ["c"])) == ("no named range 'c'", "known names: a, b")
    assert refusal(lambda: cidr.provider_ranges(ip("203.0.113.9"), [net("0.0.0.0/0")])) == (
        "RDAP returned the whole address space (0.0.0.0/0) for 203.0.113.9, not a provider block",
        "use --range 16 or --from with your provider's range")
    assert refusal(lambda: cidr.provider_ranges(ip("5.1.2.3"), [net("2001:db8::/32")], source="the registry")) == (
        "the registry gave no usable provider block for 5.1.2.3", "use --range 16 or --from")
    assert refusal(lambda: cidr.key_line((net("1.2.3.4/32"),), KEY + "\r" + KEY)) == (
        "the public key must be exactly one line", "pass the .pub file of the key")
    assert refusal(lambda: cidr.key_line((net("1.2.3.4/32"),), "ssh-foo AAAA")) == (
        "not an OpenSSH public key line: 'ssh-foo AAAA'", "pass the .pub file, without options in front")
    with pytest.raises(ValueError) as exc:
        cidr.range_for(ip("93.199.55.163"), Policy.PROVIDER)
    assert str(exc.value) == "the provider policy needs an RDAP lookup: use provider_ranges()"


def test_a_provider_block_exactly_at_the_limit_is_kept():
    assert cidr.provider_ranges(ip("5.1.2.3"), [net("5.0.0.0/8")]) == Ranges((net("5.0.0.0/8"),), ())
    assert cidr.provider_ranges(ip("2003:e1::1"), [net("2003::/32")]) == Ranges((net("2003::/32"),), ())


WRONG = "an echo service on the internet can never see it, so the service is inside your network or wrong"


@pytest.mark.parametrize(
    ("address", "explanation"),
    [
        ("10.1.2.3", "10.1.2.3 is a private (RFC 1918) address: it belongs to your local network, behind NAT or a VPN; " + WRONG),
        ("127.0.0.1", "127.0.0.1 is a loopback address: it means this machine itself; " + WRONG),
        ("fe80::1", "fe80::1 is a link-local address: valid only on one network segment; " + WRONG),
        ("fd12:3456::1", "fd12:3456::1 is a unique local IPv6 address (fc00::/7), like a private IPv4 address (a VPN or LAN); " + WRONG),
        ("192.0.2.7", "192.0.2.7 is a documentation example address, never used on the internet; the echo service is wrong"),
        ("224.0.0.1", "224.0.0.1 is a special-purpose address, not routed on the internet; the echo service or a VPN/proxy is wrong"),
    ],
)
def test_every_explanation(address, explanation):
    assert cidr.classify(address).explanation == explanation
