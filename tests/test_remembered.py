from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.catalogue import load_catalogue
from sshsetup.errors import BadInput
from sshsetup.remembered import Remembered, choose_sites

WHERE = Path("/home/u/.ssh/config")


def test_from_options_types_every_field():
    r = Remembered.from_options(
        {"sites": ["jusuf"], "user": "smith1", "key": "/k", "client": "macos", "sites_file": "/s.toml", "compute_nodes": True},
        WHERE,
    )
    assert r == Remembered(("jusuf",), "smith1", Path("/k"), "macos", Path("/s.toml"), True)
    assert Remembered.from_options({}, WHERE) == Remembered()


@pytest.mark.parametrize("options", [{"sites": "jusuf"}, {"sites": [1]}, {"user": 5}, {"user": ""}, {"compute_nodes": "yes"}])
def test_malformed_options_are_refused(options):
    with pytest.raises(BadInput) as exc:
        Remembered.from_options(options, WHERE)
    assert exc.value.message.startswith(f"the sshsetup block in {WHERE} has a malformed remembered option")
    assert exc.value.hint == "run 'sshsetup init' again to rewrite the block (or 'sshsetup remove' to delete it)"


def test_choose_sites_given_then_remembered_then_defaults():
    cat = load_catalogue(None, None)
    assert [s.id for s in choose_sites(cat, ["jusuf"], Remembered(sites=("juwels-booster",)))] == ["jusuf"]
    assert [s.id for s in choose_sites(cat, [], Remembered(sites=("jusuf",)))] == ["jusuf"]
    assert [s.id for s in choose_sites(cat, [], Remembered())] == ["juwels-booster", "jusuf"]
    with pytest.raises(BadInput, match="unknown site 'nope'"):
        choose_sites(cat, [], Remembered(sites=("nope",)))


def test_sites_file_given_then_remembered():
    from sshsetup.remembered import sites_file

    assert sites_file(Remembered(sites_file=Path("/r.toml")), Path("/g.toml")) == Path("/g.toml")
    assert sites_file(Remembered(sites_file=Path("/r.toml")), None) == Path("/r.toml")
    assert sites_file(Remembered(), None) is None


def test_vscode_falls_back_by_the_one_rule(capsys, fake_home):
    """No --site and nothing remembered: the first default site (as every command), not a literal of its own."""
    from sshsetup.remembered import DEFAULT_SITES
    from tests.helpers import run_cli

    r = run_cli(capsys, "vscode", "--workspace", str(fake_home), "--dry-run")
    assert r.rc == 0, r.err
    cat = load_catalogue(None, None)
    first, second = (cat[sid].alias for sid in DEFAULT_SITES)
    assert first in r.out and second not in r.out


def test_adopted_aliases_follow_the_site_into_every_command(tmp_path: Path) -> None:
    """init --alias juwels-booster=booster is remembered; choose_sites gives the site under that name."""
    from sshsetup.catalogue import load_catalogue
    from sshsetup.remembered import Remembered, choose_sites

    rem = Remembered.from_options({"sites": ["juwels-booster", "jusuf"], "aliases": {"juwels-booster": "booster"}},
                                  tmp_path / "config")
    assert rem.aliases == (("juwels-booster", "booster"),)
    got = choose_sites(load_catalogue(None, tmp_path / "none.toml"), (), rem)
    assert [(s.id, s.alias) for s in got] == [("juwels-booster", "booster"), ("jusuf", "jsc-jusuf")]


@pytest.mark.parametrize("bad", [["booster"], {"juwels-booster": 3}, {"": "x"}])
def test_malformed_remembered_aliases_are_refused(tmp_path: Path, bad: object) -> None:
    from sshsetup.errors import BadInput
    from sshsetup.remembered import Remembered

    with pytest.raises(BadInput) as e:
        Remembered.from_options({"aliases": bad}, tmp_path / "config")
    assert e.value.message == f"the sshsetup block in {tmp_path / 'config'} has a malformed remembered option 'aliases'"
