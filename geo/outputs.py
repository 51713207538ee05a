"""Writing outputs so that a crash or a kill never leaves a half-written file or folder.

Single files are written to a temporary name in the same folder and renamed into place
(:func:`atomic_path`). A whole output folder (a report) is built in a hidden sibling folder
and swapped in at the end (:func:`staged_dir`), so readers see either the complete old
report or the complete new one, never a mix.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from geo.errors import OutputError

__all__ = ["atomic_path", "check_writable", "staged_dir"]


def _explain(exc: OSError, path: Path) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(
            f"no space left on the device while writing {path}; free space or choose another --out"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(
            f"cannot write to {path}: permission denied; choose a writable --out folder"
        )
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")


def _umask() -> int:
    # mkstemp/mkdtemp create private files; outputs should get the user's usual permissions
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(folder: str | os.PathLike) -> Path:
    """Fail early if ``folder`` (or the existing parent it would be created in) is not writable.

    Raises
    ------
    geo.errors.OutputError
    """
    folder = Path(folder).absolute()
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{probe} exists and is not a folder; choose another output location")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write to {probe}: permission denied; choose a writable output folder"
        )
    return folder


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds.

    Examples
    --------
    >>> with atomic_path("table.csv") as tmp:  # doctest: +SKIP
    ...     frame.to_csv(tmp)
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # keep the real suffix last: GDAL drivers (GeoPackage …) look at it
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent
        )
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())
    except OSError as exc:
        raise _explain(exc, path) from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except OSError as exc:
        raise _explain(exc, path) from None
    finally:
        tmp_path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _remove_orphans(folder: Path) -> None:
    """Delete staging and trash folders left by runs that were killed (their process is gone)."""
    for kind in ("staging", "old"):
        for path in folder.parent.glob(f".{folder.name}.{kind}-*"):
            pid = path.name.removeprefix(f".{folder.name}.{kind}-").split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(folder: str | os.PathLike) -> Iterator[Path]:
    """Build an output folder in a hidden sibling and swap it in when the block succeeds.

    On error the staging folder is removed and an existing ``folder`` is left untouched.
    The swap is two renames (old → trash, new → folder), so there is no moment at which
    ``folder`` holds a mix of old and new files.
    """
    folder = check_writable(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        _remove_orphans(folder)
        stage = Path(
            tempfile.mkdtemp(prefix=f".{folder.name}.staging-{os.getpid()}-", dir=folder.parent)
        )
        stage.chmod(0o777 & ~_umask())
    except OSError as exc:
        raise _explain(exc, folder) from None
    try:
        yield stage
        trash = None
        if folder.exists():
            trash = Path(
                tempfile.mkdtemp(prefix=f".{folder.name}.old-{os.getpid()}-", dir=folder.parent)
            )
            os.replace(folder, trash / folder.name)
        os.replace(stage, folder)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    except OSError as exc:
        raise _explain(exc, folder) from None
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
