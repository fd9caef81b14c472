from __future__ import annotations

from pathlib import Path

from sshsetup.ssh.handwritten import HostLine, candidates, host_lines

F = Path("/h/.ssh/config")
D = Path("/h/.ssh")
HOSTS = {"juwels-booster.fz-juelich.de", "jusuf.fz-juelich.de"}


def test_host_lines_skip_patterns_comments_and_the_managed_block() -> None:
    text = ("# Host commented\nHost a b* !c d  # note\n  HostName x\n# BEGIN sshsetup (managed)\nHost jsc-booster\n"
            "# END sshsetup\nHost=e\nMatch host f\n")
    assert host_lines(text, F, D) == [(F, 2, "a"), (F, 2, "d"), (F, 7, "e")]


def test_only_aliases_that_may_reach_a_managed_host_are_candidates() -> None:
    text = ("Host booster\n    HostName JUWELS-Booster.fz-juelich.de\n"
            "Host jusuf.fz-juelich.de\n    User me\n"
            "Host pct\n    HostName %h.fz-juelich.de\n"
            "Host other\n    HostName other.example.org\n"
            "Host bare\n")
    assert candidates(text, F, D, HOSTS) == [
        HostLine(F, 1, "booster", "JUWELS-Booster.fz-juelich.de"),
        HostLine(F, 3, "jusuf.fz-juelich.de", None),
        HostLine(F, 5, "pct", "%h.fz-juelich.de"),
    ]


def test_a_wildcard_hostname_with_a_token_makes_every_alias_without_its_own_a_candidate() -> None:
    text = "Host bare\nHost own\n  HostName own.example.org\nHost *\n  HostName %h.fz-juelich.de\n"
    assert [h.alias for h in candidates(text, F, D, HOSTS)] == ["bare"]


def test_ten_thousand_unrelated_hosts_give_no_candidate() -> None:
    text = "".join(f"Host h{i}\n    HostName h{i}.example.org\n" for i in range(10000))
    assert candidates(text, F, D, HOSTS) == []
