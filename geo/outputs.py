"""Writing outputs so that a crash or a kill never leaves a half-written file or folder.

Single files are written to a temporary name in the same folder and renamed into place
(:func:`atomic_path`). A whole output folder (a report) is built in a hidden sibling folder
and swapped in at the end (:func:`staged_dir`), so readers see either the complete old
report or the complete new one, never a mix.

Nothing of the user's is ever replaced: a folder is replaced only when it is new, empty, or
an output folder this toolkit wrote (its ``manifest.json`` names the tool and lists every
file in it); the home folder, the working folder and its parents and a project root are
never replaced; and an output may not be (or contain) one of the command's inputs
(:func:`check_output_file`, :func:`check_not_input`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from geo.errors import OutputError, UsageError

__all__ = [
    "MANIFEST",
    "TOOL",
    "atomic_path",
    "check_not_input",
    "check_output_file",
    "check_replaceable",
    "check_writable",
    "staged_dir",
]

#: Name of the provenance record in an output folder, and the tool it names (ownership mark).
MANIFEST = "manifest.json"
TOOL = "barrier (geo-barrier)"
#: Files an output folder may hold besides those its manifest lists: our own records at the
#: top, and what file browsers leave anywhere (macOS Finder, Windows Explorer).
_OUR_RECORDS = frozenset({MANIFEST, "report.log"})
_LITTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


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


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name the same file or folder (hard links and symlinks included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare the resolved names
        return a.resolve() == b.resolve()


def _input_paths(inputs: Iterable) -> list[Path]:
    return [Path(p).expanduser() for p in inputs if p is not None and str(p) != ""]


def check_not_input(output: str | os.PathLike, inputs: Iterable, *, folder: bool = False) -> None:
    """Refuse an output that is one of the inputs (or, for a folder, holds one of them).

    Parameters
    ----------
    output : path
        A file to be written, or with ``folder=True`` a folder to be replaced.
    inputs : iterable of path
        Every file (or folder) the command reads; ``None`` entries are skipped.
    folder : bool
        ``output`` is a folder replaced whole: refuse it if any input lies inside it.

    Raises
    ------
    geo.errors.UsageError
    """
    output = Path(output).expanduser()
    for path in _input_paths(inputs):
        if _same(output, path):
            raise UsageError(
                f"output {output} is also an input of this command; writing it would destroy "
                "the input: choose another output name"
            )
        if folder and output.resolve() in path.resolve().parents:
            raise UsageError(
                f"output folder {output} holds the input {path}, which replacing the folder "
                "would delete; choose an empty or new folder"
            )


def check_output_file(output: str | os.PathLike, inputs: Iterable = (), flag: str = "-o") -> Path:
    """Check a single output file before any work: a file name, writable, not an input.

    Raises
    ------
    geo.errors.UsageError
        An empty name, an existing folder, or one of the inputs.
    geo.errors.OutputError
        The folder it goes into cannot be written.
    """
    if str(output).strip() == "":
        raise UsageError(f"{flag} needs a file name, not an empty string")
    path = Path(output).expanduser()
    if path.is_dir():
        raise UsageError(
            f"{flag} {path} is a folder; give a file name (e.g. {path / 'result.csv'})"
        )
    check_writable(path.absolute().parent)
    check_not_input(path, inputs)
    return path


def _protected(folder: Path) -> str | None:
    """Why ``folder`` must never be replaced, or None."""
    real = folder.resolve()
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError):  # no home folder known: protect the root only
        home = Path(real.anchor)
    cwd = Path.cwd().resolve()
    if real == Path(real.anchor):
        return "is the root of the file system"
    if real == home:
        return "is your home folder"
    if real == cwd or real in cwd.parents:
        return "is the current folder or one of its parents"
    if real in home.parents:
        return "holds your home folder"
    if any((real / marker).exists() for marker in ("pyproject.toml", ".git", "setup.py")):
        return "is a project folder (it holds pyproject.toml, setup.py or .git)"
    return None


def _listed(folder: Path) -> set[str] | None:
    """Files our manifest in ``folder`` lists (relative, POSIX), or None if it is not ours."""
    try:
        record = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if record.get("tool") != TOOL:
            return None
        return {str(item["path"]) for item in record.get("outputs", [])} | {
            str(item) for item in record.get("files", [])
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def check_replaceable(folder: str | os.PathLike) -> Path:
    """Refuse to replace a folder that holds anything this toolkit did not write.

    A folder may be replaced if it does not exist, is empty, or holds our ``manifest.json``
    and only the files that manifest lists (plus our log). Never: the file-system root, the
    home folder, the working folder or its parents, a project folder, a symbolic link.

    Raises
    ------
    geo.errors.UsageError
        An empty name.
    geo.errors.OutputError
        A folder that is not ours to replace; the message names it and a way out.
    """
    if str(folder).strip() == "":
        raise UsageError("--out needs a folder name, not an empty string")
    folder = Path(folder).expanduser().absolute()
    advice = "choose an empty or new folder for --out"
    why = _protected(folder)
    if why:
        raise OutputError(f"will not replace {folder}: it {why}; {advice}")
    if folder.is_symlink():
        raise OutputError(f"will not replace {folder}: it is a symbolic link; {advice}")
    if not folder.exists():
        return folder
    if not folder.is_dir():
        raise OutputError(f"{folder} exists and is not a folder; {advice}")
    try:
        first = next((p for p in folder.iterdir() if p.name not in _LITTER), None)
        if first is None:
            return folder
        listed = _listed(folder)
        if listed is None:
            raise OutputError(
                f"will not replace {folder}: it is not an output folder written by barrier (no "
                f"barrier {MANIFEST}) and it holds {first.name}; {advice}"
            )
        foreign = sorted(
            rel
            for rel in (p.relative_to(folder) for p in folder.rglob("*") if not p.is_dir())
            if rel.as_posix() not in listed | _OUR_RECORDS and rel.name not in _LITTER
        )
    except OSError as exc:
        raise OutputError(f"cannot look into {folder}: {exc.strerror or exc}; {advice}") from None
    if foreign:
        raise OutputError(
            f"will not replace {folder}: it holds {len(foreign)} file(s) barrier did not write, "
            f"such as {foreign[0]}; move them or {advice}"
        )
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _orphans(folder: Path, kind: str) -> list[Path]:
    """Staging (``kind="staging"``) or trash (``"old"``) folders of dead runs, newest first."""
    found = []
    for path in folder.parent.glob(f".{folder.name}.{kind}-*"):
        pid = path.name.removeprefix(f".{folder.name}.{kind}-").split("-")[0]
        if pid.isdigit() and not _alive(int(pid)) and path.is_dir() and not path.is_symlink():
            found.append(path)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def _remove_orphans(folder: Path) -> None:
    """Clean up after runs that were killed (their process is gone).

    A run killed between the two renames of the swap leaves the previous output only in its
    trash folder and ``folder`` missing: the previous output is put back, never deleted.
    A trash folder is deleted only once ``folder`` exists again (the swap had completed);
    staging folders (half-built or never swapped in) are deleted.
    """
    for trash in _orphans(folder, "old"):
        kept = trash / folder.name
        if kept.exists() and not folder.exists() and not folder.is_symlink():
            os.replace(kept, folder)  # killed between the renames: put the old output back
        if not kept.exists() or _listed(kept) is not None or not any(kept.iterdir()):
            shutil.rmtree(trash, ignore_errors=True)
    for stage in _orphans(folder, "staging"):
        shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(folder: str | os.PathLike) -> Iterator[Path]:
    """Build an output folder in a hidden sibling and swap it in when the block succeeds.

    On error the staging folder is removed and an existing ``folder`` is left untouched.
    The swap is two renames (old → trash, new → folder), so there is no moment at which
    ``folder`` holds a mix of old and new files. Only a folder that :func:`check_replaceable`
    accepts is replaced; it is checked before the work and again just before the swap.

    Raises
    ------
    geo.errors.OutputError
        ``folder`` is not ours to replace, or cannot be written.
    """
    folder = check_replaceable(folder)
    check_writable(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(folder)
        check_replaceable(folder)  # a folder put back from a killed run's trash
        stage = Path(
            tempfile.mkdtemp(prefix=f".{folder.name}.staging-{os.getpid()}-", dir=folder.parent)
        )
        stage.chmod(0o777 & ~_umask())
    except OSError as exc:
        raise _explain(exc, folder) from None
    try:
        yield stage
        check_replaceable(folder)  # the user may have put files into it during the run
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
