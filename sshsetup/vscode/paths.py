"""Where VS Code keeps its user settings and extensions, found the way VS Code finds them.

The user-data folder is ``<appdata>/<product>`` (settings in ``User/settings.json``), with
``<appdata>`` from, in order (vscode ``src/vs/platform/environment/node/userDataPath.ts``):
``VSCODE_PORTABLE`` (``<portable>/user-data``, no product folder), ``VSCODE_APPDATA``, then
per OS: Windows ``%APPDATA%`` (or ``%USERPROFILE%\\AppData\\Roaming``), macOS
``~/Library/Application Support``, Linux ``$XDG_CONFIG_HOME`` or ``~/.config``. platformdirs
is deliberately not used: it disagrees with VS Code's userDataPath.ts (microsoft/vscode).

Under WSL, VS Code runs on Windows: its settings and the ssh it runs (with the Windows
``~/.ssh``) live in the Windows profile, seen from Linux as ``/mnt/c/Users/<name>``.
Everything here is pure: the environment, the platform (``sys.platform`` values), the home
folder and the file-system probes are arguments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

REMOTE_SSH = re.compile(r"^ms-vscode-remote\.remote-ssh-\d")  # not remote-ssh-edit-*
OPEN_REMOTE_SSH = re.compile(r"^jeanp413\.open-remote-ssh-\d")  # the VSCodium counterpart


@dataclass(frozen=True)
class Flavour:
    product: str  # the user-data folder name
    title: str
    dot_dir: str  # ~/<dot_dir>/extensions


FLAVOURS: tuple[Flavour, ...] = (
    Flavour("Code", "VS Code", ".vscode"),
    Flavour("Code - Insiders", "VS Code Insiders", ".vscode-insiders"),
    Flavour("VSCodium", "VSCodium", ".vscode-oss"),
    Flavour("Code - OSS", "Code - OSS", ".vscode-oss"),
)


@dataclass(frozen=True)
class Location:
    flavour: Flavour
    user_data: Path  # <appdata>/<product>
    extensions: Path

    @property
    def user_dir(self) -> Path:
        return self.user_data / "User"

    @property
    def settings(self) -> Path:
        return self.user_dir / "settings.json"


@dataclass(frozen=True)
class VSCodeHost:
    """Where the VS Code that the user runs keeps its files, as seen from this process."""

    locations: tuple[Location, ...]  # one per flavour, in FLAVOURS order; () if unknown
    home: Path | None  # the home of the VS Code side (the Windows profile under WSL)
    wsl: bool
    windows: bool  # VS Code runs on Windows (natively or behind WSL)
    problem: str | None = None  # why ``locations`` is empty, and what to do

    @property
    def ssh_dir(self) -> Path | None:
        """The ``~/.ssh`` that VS Code's ssh reads."""
        return None if self.home is None else self.home / ".ssh"


def read_proc_version(path: str = "/proc/version") -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def is_wsl(environ: Mapping[str, str], platform: str, proc_version: Callable[[], str] = read_proc_version) -> bool:
    if not platform.startswith("linux"):
        return False
    return bool(environ.get("WSL_DISTRO_NAME")) or "microsoft" in proc_version().lower()


def appdata_root(environ: Mapping[str, str], platform: str, home: Path) -> Path:
    """VS Code's ``<appdata>`` (before the product folder), without ``VSCODE_PORTABLE``."""
    if environ.get("VSCODE_APPDATA"):
        return Path(environ["VSCODE_APPDATA"])
    if platform == "win32":
        if environ.get("APPDATA"):
            return Path(environ["APPDATA"])
        profile = Path(environ["USERPROFILE"]) if environ.get("USERPROFILE") else home
        return profile / "AppData" / "Roaming"
    if platform == "darwin":
        return home / "Library" / "Application Support"
    return Path(environ["XDG_CONFIG_HOME"]) if environ.get("XDG_CONFIG_HOME") else home / ".config"


def locations(environ: Mapping[str, str], appdata: Path, home: Path) -> tuple[Location, ...]:
    portable = environ.get("VSCODE_PORTABLE")
    ext_env = environ.get("VSCODE_EXTENSIONS")
    out = []
    for f in FLAVOURS:
        if portable:
            data, ext = Path(portable) / "user-data", Path(portable) / "extensions"
        else:
            data, ext = appdata / f.product, home / f.dot_dir / "extensions"
        out.append(Location(f, data, Path(ext_env) if ext_env else ext))
    return tuple(out)


WSL_HINT = (
    "sshsetup runs in WSL, but VS Code runs on Windows and could not find your Windows user folder. "
    'Tell sshsetup where it is: export SSHSETUP_WINDOWS_HOME="$(wslpath "$(cmd.exe /c \'echo %USERPROFILE%\' '
    '2>/dev/null | tr -d \'\\r\')")" (usually /mnt/c/Users/<your Windows user name>), then run sshsetup again'
)


def windows_home_from_wsl(environ: Mapping[str, str], is_dir: Callable[[Path], bool]) -> Path | None:
    """The Windows profile folder seen from WSL: $SSHSETUP_WINDOWS_HOME, a Linux-style
    $USERPROFILE (shared through WSLENV=USERPROFILE/p), else /mnt/c/Users/$USER if it exists."""
    for var in ("SSHSETUP_WINDOWS_HOME", "USERPROFILE"):
        value = environ.get(var, "")
        if value.startswith("/") and is_dir(Path(value)):
            return Path(value)
    user = environ.get("USER") or environ.get("LOGNAME")
    if user and is_dir(Path("/mnt/c/Users") / user):
        return Path("/mnt/c/Users") / user
    return None


def find_vscode(
    environ: Mapping[str, str],
    platform: str,
    home: Path,
    *,
    proc_version: Callable[[], str] = read_proc_version,
    is_dir: Callable[[Path], bool] = os.path.isdir,
) -> VSCodeHost:
    """Where VS Code's settings and extensions are, for every flavour."""
    if is_wsl(environ, platform, proc_version):
        win_home = windows_home_from_wsl(environ, is_dir)
        if win_home is None:
            return VSCodeHost((), None, wsl=True, windows=True, problem=WSL_HINT)
        appdata = win_home / "AppData" / "Roaming"
        return VSCodeHost(locations({}, appdata, win_home), win_home, wsl=True, windows=True)
    appdata = appdata_root(environ, platform, home)
    return VSCodeHost(locations(environ, appdata, home), home, wsl=False, windows=platform == "win32")


def installed(host: VSCodeHost, is_dir: Callable[[Path], bool] = os.path.isdir) -> tuple[Location, ...]:
    """The flavours whose user-data folder exists (the portable folder counts once)."""
    seen: set[Path] = set()
    out = []
    for loc in host.locations:
        if loc.user_data not in seen and is_dir(loc.user_data):
            seen.add(loc.user_data)
            out.append(loc)
    return tuple(out)


def remote_ssh_extension(
    loc: Location, listdir: Callable[[Path], list[str]] = lambda p: os.listdir(p)
) -> str | None:
    """The folder name of the installed Remote-SSH extension (or open-remote-ssh), the newest version."""
    try:
        names = listdir(loc.extensions)
    except OSError:
        return None
    found = [n for n in names if REMOTE_SSH.match(n) or OPEN_REMOTE_SSH.match(n)]
    return max(found, key=lambda n: [int(x) for x in re.findall(r"\d+", n.rsplit("ssh-", 1)[-1])], default=None)
