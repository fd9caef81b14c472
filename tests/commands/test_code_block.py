"""``init`` again keeps the session entries ``code`` added; ``--drop-site`` drops only that site's; ``remove`` all.

The real test bed: loopback sshd as the login node of two sites, the single-node Slurm, a real agent.
"""

from __future__ import annotations

import re

import pytest

from tests.commands.test_code import Session, session  # noqa: F401 - a fixture
from tests.commands.test_login import pkg  # noqa: F401 - a fixture
from tests.test_e2e import py  # noqa: F401 - a fixture

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]
JOB = ("--account", "myproject", "--partition", "develbooster", "--gpus", "1", "--time", "00:05:00",
       "--persist", "--idle", "0", "--no-open")


def test_init_keeps_session_entries_and_drop_site_drops_only_its_own(session: Session) -> None:
    s = session
    sites = s.user.home / "sites.toml"
    sites.write_text(sites.read_text() + sites.read_text().replace("[sites.testbed]", "[sites.testbed2]")
                     .replace('name = "Test bed"', 'name = "Test bed 2"').replace('"jsc-testbed"', '"jsc-testbed2"'))
    r = s.sshsetup("init", "--site", "testbed2", "--yes", "--from", "127.0.0.1", "--no-vscode")
    assert r.returncode == 0, r.stderr
    jobs = []
    try:
        for site in ("testbed", "testbed2"):
            r = s.sshsetup("code", "--site", site, *JOB)
            assert r.returncode == 0, r.stderr
            jobs.append(int(re.search(r"✓ job (\d+) runs on", r.stderr).group(1)))  # type: ignore[union-attr]
    finally:
        for site in ("testbed", "testbed2"):
            s.sshsetup("code", "--stop", "--site", site)
            s.sshsetup("logout", "--site", site)
    cfg = s.user.ssh_dir / "config"
    written = cfg.read_bytes()
    text = written.decode()
    one, two = "jsc-testbed-code-develbooster-g1", "jsc-testbed2-code-develbooster-g1"
    assert f'"sessions":{{"{one}":"testbed","{two}":"testbed2"}}' in text
    assert text.index(f"Host {one}\n") < text.index(f"Host {two}\n") < text.index("# end of sshsetup's hosts")

    again = s.sshsetup("init", "--yes", "--no-vscode")  # the remembered sites, as a user re-runs it
    assert again.returncode == 0, again.stderr
    assert cfg.read_bytes() == written

    entry2 = re.search(r"# Test bed 2 \(testbed2\)\nHost jsc-testbed2\n(    .*\n)+\n", text)
    session2 = re.search(rf"# sshsetup code: session profile testbed2-develbooster-g1\nHost {two}\n(    .*\n)+\n", text)
    assert entry2 is not None and session2 is not None
    expected = (text.replace(entry2.group(0), "").replace(session2.group(0), "")
                .replace(f',"{two}":"testbed2"', "").replace('"sites":["testbed","testbed2"]', '"sites":["testbed"]'))
    dropped = s.sshsetup("init", "--drop-site", "testbed2", "--yes", "--no-vscode")
    assert dropped.returncode == 0, dropped.stderr
    assert (f"Dropping jsc-testbed2 (testbed2): its Host entry leaves the sshsetup block with the session entries {two}"
            " (the key, and the key in JuDoor, stay as they are).\n") in dropped.stderr
    assert cfg.read_text() == expected
    assert f"Host {one}\n" in expected and "jsc-testbed2" not in expected

    removed = s.sshsetup("remove", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert not cfg.exists()  # init created it: remove deletes it, session entries and all
