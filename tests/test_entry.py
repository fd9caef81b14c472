from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ctrl_c_while_starting_exits_130_without_a_traceback(tmp_path: Path) -> None:
    """Issue 12 item 8: a Ctrl-C while the command modules are still importing. A stand-in click
    (an external library, not sshsetup's code) raises KeyboardInterrupt when it is imported."""
    (tmp_path / "click").mkdir()
    (tmp_path / "click" / "__init__.py").write_text("raise KeyboardInterrupt\n")
    done = subprocess.run([sys.executable, "-m", "sshsetup", "--help"], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{tmp_path}:{ROOT}", "HOME": str(tmp_path)})
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "Interrupted (^C)\n")


def test_the_entry_point_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "sshsetup", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("sshsetup, version ")
