from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli


def test_a_bidi_override_in_a_site_name_is_shown_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Issue 12 item 6: a sites file is a stranger's; its name reaches the terminal through the one sanitiser."""
    sf = tmp_path / "s.toml"
    sf.write_text('[sites.evil]\nhostname = "login.example.org"\nname = "Trusted \u202eexe.gnp\u200b"\n', encoding="utf-8")
    r = run_cli(capsys, "sites", "--sites-file", str(sf))
    assert r.rc == 0, r.err
    row = next(line for line in r.out.splitlines() if line.startswith("evil "))
    assert row.endswith("Trusted \\u202eexe.gnp\\u200b")
    assert "\u202e" not in r.out and "\u200b" not in r.out


def test_sites_json_is_the_envelope(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from sshsetup import envelope

    r = run_cli(capsys, "sites", "--json")
    doc = envelope.parse(r.out, "sites", 1)
    ids = [s["id"] for s in doc["sites"]]
    assert ids[:2] == ["juwels-booster", "jusuf"] and doc["exit_code"] == 0
    booster = doc["sites"][0]["facts"]["hostname"]
    assert booster["value"] == "juwels-booster.fz-juelich.de" and booster["source"].startswith("https://")
