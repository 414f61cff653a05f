"""A Python >= 3.13 interpreter (the platform's packages need it) and the per-release venv with
`backend-ai-manager` installed in it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from core.demo.backendai.cache import PROJECT_DIR, Paths, file_lock
from core.demo.backendai.common import (
    PACKAGE,
    BackendAIError,
    Progress,
    _run,
    print_progress,
    resolve_release,
    say,
)

PY313_ENV = "PRUNER_PY313"


def _python_version(exe: str) -> tuple[int, int] | None:
    try:
        proc = subprocess.run(
            [exe, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:  # e.g. a pyenv shim for a version that is not selected
        return None
    try:
        major, minor = (int(x) for x in proc.stdout.split())
    except ValueError:
        return None
    return major, minor


def find_python313() -> Path:
    """A Python >= 3.13 interpreter (the platform's packages require it).

    $PRUNER_PY313 when set (used or refused), else python3.13 / python3.14 on PATH, then pyenv
    installs under ~/.pyenv and /root/.pyenv. Every candidate is run once to check that it works
    (a pyenv shim for a version that is not selected does not).
    """
    configured = os.environ.get(PY313_ENV)
    if configured:  # an explicit choice is used or refused, never silently replaced
        version = _python_version(configured)
        if version is None or version < (3, 13):
            raise BackendAIError(f"{PY313_ENV}={configured} is not a working Python >= 3.13")
        return Path(configured)
    candidates: list[str] = []
    for name in ("python3.13", "python3.14"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    for root in (Path.home() / ".pyenv", Path("/root/.pyenv")):
        with contextlib.suppress(OSError):
            for found_exe in sorted((root / "versions").glob("3.1[3-9]*/bin/python"),
                                    reverse=True):
                candidates.append(str(found_exe))
    for exe in candidates:
        version = _python_version(exe)
        if version is not None and version >= (3, 13):
            return Path(exe)
    raise BackendAIError(
        f"{PACKAGE} needs Python >= 3.13 and none was found; install one (e.g. "
        f"`pyenv install 3.13`) or set {PY313_ENV}=/path/to/python3.13"
    )


# ---------------------------------------------------------------------------------- the venv
_PROBE = (
    "import importlib.metadata as m, ai.backend.manager.cli.dbschema as d; "
    f"print(m.version({PACKAGE!r}))"
)


def _venv_version(venv: Path) -> str | None:
    exe = venv / "bin" / "python"
    if not exe.exists() or not (venv / "bin" / "backend.ai").exists():
        return None
    proc = subprocess.run([str(exe), "-c", _PROBE], capture_output=True, text=True, timeout=300)
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_venv(release: str, progress: Progress | None = print_progress,
                project_dir: Path = PROJECT_DIR) -> Path:
    """The venv with `backend-ai-manager==<version>` installed (reused when it is there)."""
    paths = Paths(resolve_release(release), project_dir)
    with file_lock(paths.venv.parent / "venv.lock", progress,
                   f"building the {paths.version} venv"):
        if _venv_version(paths.venv) == paths.version:
            return paths.venv
        python = find_python313()
        say(progress, f"creating {paths.venv} with {python}")
        paths.venv.parent.mkdir(parents=True, exist_ok=True)
        _run([str(python), "-m", "venv", "--clear", str(paths.venv)], "venv creation")
        say(progress, f"installing {PACKAGE}=={paths.version} with pip (takes a few minutes)")
        started = time.monotonic()
        _run([str(paths.venv / "bin" / "python"), "-m", "pip", "install", "-q",
              "--disable-pip-version-check", f"{PACKAGE}=={paths.version}"],
             f"pip install {PACKAGE}=={paths.version}", timeout=3600)
        found = _venv_version(paths.venv)
        if found != paths.version:
            raise BackendAIError(
                f"{paths.venv}: {PACKAGE} {paths.version} installed but does not import "
                f"(found {found!r})")
        took = time.monotonic() - started
        say(progress, f"installed {PACKAGE}=={paths.version} in {took:.0f} s")
        return paths.venv
