"""Every filesystem location sshsetup uses, computed once from the environment.

``Path.home()`` and ``expanduser`` appear nowhere else. Two homes matter:
``home`` is ``$HOME`` (where sshsetup reads and writes), ``pw_home`` is the
password-database home that the OpenSSH client uses to expand ``~``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP = "sshsetup"


def _pw_home() -> Path | None:
    if sys.platform == "win32":  # pragma: no cover - the ssh client uses %USERPROFILE%
        return None
    import pwd

    try:
        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:  # pragma: no cover - uid without a passwd entry
        return None


@dataclass(frozen=True)
class Paths:
    home: Path
    pw_home: Path
    config_dir: Path
    state_dir: Path

    @property
    def ssh_dir(self) -> Path:
        return self.home / ".ssh"

    @property
    def ssh_config(self) -> Path:
        return self.ssh_dir / "config"

    @property
    def default_key(self) -> Path:
        return self.ssh_dir / "id_ed25519_jsc"

    @property
    def sites_file(self) -> Path:
        return self.config_dir / "sites.toml"

    @property
    def manifest(self) -> Path:
        return self.state_dir / "manifest.json"

    @property
    def keylines(self) -> Path:
        return self.state_dir / "keylines.json"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "sshsetup.lock"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def ssh_uses_default_config(self) -> bool:
        """True when a plain ``ssh`` reads ``self.ssh_config`` (no ``-F`` needed)."""
        return self.pw_home.resolve() == self.home.resolve()

    def ssh_tilde(self, path: Path) -> str:
        """How to write ``path`` in ssh_config: ``~/...`` only under the passwd home."""
        try:
            rel = path.resolve().relative_to(self.pw_home.resolve())
        except ValueError:
            return str(path.resolve()).replace("\\", "/")
        return "~/" + rel.as_posix() if str(rel) != "." else "~"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Paths:
        env = os.environ if environ is None else environ
        home_s = env.get("HOME") or env.get("USERPROFILE")
        home = Path(home_s) if home_s else Path.home()
        pw = _pw_home() or home
        import platformdirs

        config_dir = Path(platformdirs.user_config_dir(APP, appauthor=False))
        state_dir = Path(platformdirs.user_state_dir(APP, appauthor=False))
        return cls(home=home, pw_home=pw, config_dir=config_dir, state_dir=state_dir)
