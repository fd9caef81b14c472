from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.catalogue import Site, parse_sites
from sshsetup.errors import BadInput
from sshsetup.ssh.takeover import find, match, refuse, user_hosts

F = Path("/h/.ssh/config")
D = Path("/h/.ssh")


def _site(alias: str, hostname: str = "login.example.org", nodes: str | None = None) -> list[Site]:
    extra = f'compute_node_pattern = "{nodes}"\n' if nodes else ""
    text = f'[sites.x]\nhostname = "{hostname}"\nalias = "{alias}"\n{extra}'
    return list(parse_sites(text, "user sites file /s.toml", "/s.toml").values())


def test_ssh_patterns_match_as_ssh_does() -> None:
    assert match("*.com", "GitHub.com") and match("git?ub.com", "github.com") and match("*", "x")
    assert not match("*.com", "github.org") and not match("[a]", "a") and not match("gh", "ghx")


def test_user_hosts_read_patterns_and_first_hostname_outside_the_block() -> None:
    text = ("Host a *.b !c\n  HostName one\n  HostName two\n# BEGIN sshsetup (managed)\nHost x\n# END sshsetup\n"
            "Match host y\n  HostName z\nHost=e\n")
    hosts = user_hosts(text, F, D)
    assert [(h.line, h.patterns, h.hostname) for h in hosts] == [(1, ("a", "*.b", "!c"), "one"), (9, ("e",), None)]


@pytest.mark.parametrize("config", [
    "Host github.com\n  IdentityFile ~/.ssh/gh\n",
    "Host github.com\n  HostName github.com\n",
    "Host *.com\n  User git\n",
    "Host gh github.com\n  HostName ssh.github.com\n",
    "Host *.com !gitlab.com\n",
    "Host *.com\n  HostName %h.corp.example\n",
])
def test_an_alias_that_a_user_host_matches_is_a_takeover(config: str) -> None:
    (t,) = find(config, F, D, _site("github.com"))
    assert (t.site_id, t.what, t.value, t.host.file, t.host.line) == ("x", "alias", "github.com", F, 1)


@pytest.mark.parametrize("config", [
    "Host *\n  IdentityFile ~/.ssh/all\n",  # a catch-all is everyone's
    "Host * !foo\n  User me\n",
    "Host *.com !github.com\n",  # negated
    "Host gitlab.com\n",
    "Host github.com\n  HostName login.example.org\n",  # the user's own entry for the same machine
    "Host *.example.org\n",  # the alias is the host itself
    "# Host github.com\n",
    "# BEGIN sshsetup (managed)\nHost github.com\n# END sshsetup\n",
    "Match host github.com\n  User x\n",
])
def test_no_takeover(config: str) -> None:
    alias = "login.example.org" if "example.org" in config and "HostName" not in config else "github.com"
    assert find(config, F, D, _site(alias)) == []


def test_the_packaged_catalogues_aliases_are_not_checked() -> None:
    from sshsetup.catalogue import load_catalogue

    sites = list(load_catalogue(None, None).values())
    assert find("Host jusuf\n  HostName elsewhere.example.org\n", F, D, sites) == []


def test_a_compute_node_pattern_that_matches_a_user_alias_is_a_takeover() -> None:
    (t,) = find("Host build1 node7.corp.example\n  HostName 10.0.0.5\n", F, D, _site("site", nodes="node*.corp.example"))
    assert (t.what, t.value, t.host.line) == ("compute_node_pattern", "node*.corp.example", 1)
    assert find("Host build1\n", F, D, _site("site", nodes="jwb*i.juwels")) == []


def test_includes_are_followed(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "git").write_text("\nHost github.com\n  IdentityFile ~/.ssh/gh\n")
    (t,) = find("Include conf.d/*\n", tmp_path / "config", tmp_path, _site("github.com"))
    assert (t.host.file, t.host.line) == (tmp_path / "conf.d" / "git", 2)


def test_refuse_names_file_line_and_the_way_out(tmp_path: Path) -> None:
    cfg = tmp_path / "config"
    cfg.write_text("Host a\nHost github.com\n  IdentityFile ~/.ssh/gh\n")
    with pytest.raises(BadInput) as err:
        refuse(cfg, tmp_path, _site("github.com"))
    assert err.value.message == f"[sites.x] alias github.com would take over your own 'Host github.com' ({cfg}:2)"
    assert err.value.hint == ("ssh github.com would reach the site instead; give the site another alias: "
                              "--alias x=NAME (or alias = \"...\" in the sites file)")
    refuse(tmp_path / "missing", tmp_path, _site("github.com"))
