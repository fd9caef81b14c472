from __future__ import annotations

import json
from pathlib import Path

import pytest

from sshsetup.catalogue import CONFIDENCES, load_catalogue, parse_sites, parse_time, select
from sshsetup.errors import BadInput
from tests.helpers import run_cli

JSC = ("juwels-booster", "jusuf", "juwels-cluster", "jureca-dc", "jupiter", "judac")


def test_catalogue_has_the_jsc_systems_with_sources() -> None:
    cat = load_catalogue(None, None)
    assert tuple(cat) == JSC
    for site in cat.values():
        for key in ("name", "alias", "hostname", "login_nodes", "address_family", "arch", "gpu_partitions",
                    "devel_partitions", "gpus_per_node", "max_walltime", "judoor_url", "docs_url", "compute_node_pattern"):
            fact = site.facts[key]
            assert fact.source, (site.id, key)
            assert fact.confidence in CONFIDENCES, (site.id, key)
            if fact.confidence == "unknown":
                assert fact.value in ("", [], "unknown"), (site.id, key)  # unknown facts are left empty
    b = cat["juwels-booster"]
    assert (b.alias, b.hostname, b.port, b.address_family, b.gpus_per_node) == ("jsc-booster", "juwels-booster.fz-juelich.de", 22, "inet", 4)
    assert {p.name: (p.kind, p.max_time_minutes) for p in b.partitions().values()} == {"booster": ("gpu", 1440), "develbooster": ("devel", 120)}
    assert cat["jusuf"].partitions()["gpus"].max_time_minutes is None  # not known: not invented
    assert cat["jupiter"].get("arch") == "aarch64"


def test_user_sites_file_adds_and_replaces(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text('[sites.mysite]\nname = "My cluster"\nhostname = "login.example.org"\nport = 2222\nalias = "my"\n'
                 '[sites.jusuf]\nhostname = "jusuf3.fz-juelich.de"\nalias = "jsuf"\njsc = true\n')
    cat = load_catalogue(f, None)
    assert cat["mysite"].port == 2222 and cat["mysite"].alias == "my" and not cat["mysite"].is_jsc
    assert cat["mysite"].facts["hostname"].source == f"user sites file {f}"
    assert cat["jusuf"].hostname == "jusuf3.fz-juelich.de"
    default = tmp_path / "config" / "sites.toml"
    assert "mysite" not in load_catalogue(None, default)  # missing default file is fine
    default.parent.mkdir()
    default.write_text('[sites.other]\nhostname = "127.0.0.1"\n')
    assert load_catalogue(None, default)["other"].alias == "other"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[sites.x\n", "s.toml: Expected ']' at the end of a table declaration (at line 1, column 9)", id="toml-syntax"),
        pytest.param("a = 1\n", "s.toml: no [sites.<id>] table found", id="no-sites"),
        pytest.param('[sites.x]\nname = "X"\n', "s.toml:1: [sites.x] missing required key 'hostname'", id="no-hostname"),
        pytest.param('[sites.x]\nname = "X"\nhostname = "bad host"\n', "s.toml:3: [sites.x] hostname 'bad host' is not a valid host name", id="bad-hostname"),
        pytest.param('[sites.x]\nhostname = "h.org"\nport = 70000\n', "s.toml:3: [sites.x] port 70000 is not a valid TCP port", id="bad-port"),
        pytest.param('[sites.x]\nhostname = "h.org"\nport = "22"\n', "s.toml:3: [sites.x] port must be an integer, not str", id="port-type"),
        pytest.param('[sites.x]\nhostname = "h.org"\nalias = "a*"\n', "s.toml:3: [sites.x] alias a* is not a valid ssh alias", id="wildcard-alias"),
        pytest.param('[sites.x]\nhostname = "h.org"\nalias = "a b"\n', "s.toml:3: [sites.x] alias 'a b' is not a valid ssh alias", id="space-alias"),
        pytest.param('[sites.x]\nhostname = "h.org"\ncolour = "red"\n', "s.toml:3: [sites.x] unknown key 'colour'", id="unknown-key"),
        pytest.param('[sites.X]\nhostname = "h.org"\n', "s.toml:1: [sites.X] site id X is not valid", id="bad-id"),
        pytest.param('[sites.x]\nhostname = "h.org"\nmax_walltime = "forever"\n', "s.toml:3: [sites.x] time 'forever' is not a valid Slurm time", id="bad-time"),
        pytest.param('[sites.x]\nhostname = "h.org"\nuser = "a#b"\n', "s.toml:3: [sites.x] user a#b is not a valid user name", id="bad-user"),
        pytest.param('[sites.x]\nhostname = "h.org"\naddress_family = "ipv7"\n', "s.toml:3: [sites.x] address_family must be one of inet, inet6, any", id="bad-family"),
        pytest.param('sites = 3\n', "s.toml: no [sites.<id>] table found", id="sites-not-table"),
    ],
)
def test_malformed_sites_file(text: str, message: str) -> None:
    with pytest.raises(BadInput) as exc:
        parse_sites(text, "user", "s.toml")
    assert exc.value.message == message


def test_duplicate_alias_and_unknown_site(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text('[sites.x]\nhostname = "h.org"\nalias = "jsc-booster"\n')
    with pytest.raises(BadInput, match="both use the alias 'jsc-booster'"):
        load_catalogue(f, None)
    with pytest.raises(BadInput) as exc:
        select(load_catalogue(None, None), ["juwels"])
    assert exc.value.hint == "known sites: judac, jupiter, jureca-dc, jusuf, juwels-booster, juwels-cluster"


@pytest.mark.parametrize(("value", "minutes"), [("30", 30), ("02:00:00", 120), ("1-00:00:00", 1440), ("00:10:01", 11)])
def test_parse_time(value: str, minutes: int) -> None:
    assert parse_time(value) == minutes


def test_sites_command(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "sites")
    assert r.rc == 0
    assert r.out.splitlines()[0].split() == ["ID", "ALIAS", "HOSTNAME", "NAME"]
    assert "juwels-booster  jsc-booster  juwels-booster.fz-juelich.de  JUWELS Booster" in r.out
    r = run_cli(capsys, "sites", "--json")
    doc = json.loads(r.out)
    assert doc["version"] == 1 and [s["id"] for s in doc["sites"]] == list(JSC)
    assert doc["sites"][0]["facts"]["hostname"] == {
        "value": "juwels-booster.fz-juelich.de",
        "source": "https://github.com/HelmholtzAI-FZJ/2023-getting-started-with-ai-on-supercomputers/blob/0370a1f/01-access-machines.md (course, 2023): Host booster; https://github.com/Hi-PACE/hipace/blob/1d95723/docs/source/building/platforms/booster_jsc.rst",
        "confidence": "medium",
    }
