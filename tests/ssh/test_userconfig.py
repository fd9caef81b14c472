from __future__ import annotations

from pathlib import Path

from sshsetup.ssh.userconfig import Line, lines, words


def test_lines_outside_the_block_with_includes_in_their_place(tmp_path: Path) -> None:
    (tmp_path / "extra").write_text("Host inc\n  HostName inc.example.org\n")
    cfg = tmp_path / "config"
    text = ("# BEGIN sshsetup\nHost jsc-booster\n# END sshsetup\n# a comment\nHost a  # mine\n"
            "Include extra\nUser = me\n")
    got = list(lines(text, cfg, tmp_path))
    assert got == [Line(cfg, 5, "host", "a  # mine"), Line(cfg, 6, "include", "extra"),
                   Line(tmp_path / "extra", 1, "host", "inc"), Line(tmp_path / "extra", 2, "hostname", "inc.example.org"),
                   Line(cfg, 7, "user", "me")]


def test_an_include_loop_ends(tmp_path: Path) -> None:
    (tmp_path / "self").write_text("Include self\n")
    assert len(list(lines("Include self\n", tmp_path / "config", tmp_path))) == 17  # the config's line, then 16 levels


def test_words_stop_at_a_comment_and_lose_quotes() -> None:
    assert words('"a b" c # d e') == ["a", "b", "c"]
