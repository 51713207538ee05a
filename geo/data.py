"""Where the shipped data live, whether the package is installed editable or not.

Lookup order for the data folder:

1. a folder set for the current context with :func:`use_data_dir` (``barrier report --data``);
2. the environment variable ``GEO_BARRIER_DATA`` (a folder laid out like ``data/``);
3. ``geo/_data`` inside the installed package (a wheel carries ``data/`` there);
4. ``data/`` at the top of a source checkout (editable installs, running from the repo).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from geo.errors import DataError

__all__ = [
    "CACHE_ENV_VAR",
    "ENV_VAR",
    "cache_dir",
    "data_dir",
    "data_path",
    "remembered_digests",
    "remembering_digests",
    "sha256",
    "use_data_dir",
]

ENV_VAR = "GEO_BARRIER_DATA"

# set by use_data_dir for the duration of a ``with`` block: a context variable, not the
# process environment, so that the choice ends with the block and does not leak into
# later calls, other threads' contexts or child processes
_DATA_DIR: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "geo_barrier_data_dir", default=None
)


def _checked(path: Path, what: str, fix: str) -> Path:
    """``path`` if it holds a ``boundaries/`` folder, else a DataError naming ``what``."""
    if not (path / "boundaries").is_dir():
        raise DataError(
            f"{what} does not hold a boundaries/ folder; point it at a copy of the project's "
            f"data/ folder {fix}"
        )
    return path


@contextlib.contextmanager
def use_data_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Resolve the shipped data from ``path`` inside a ``with`` block.

    The setting is scoped: it holds for the current thread (or asyncio task) until the
    block ends, wins over ``GEO_BARRIER_DATA``, and never changes ``os.environ``.

    Parameters
    ----------
    path : str or os.PathLike
        A folder laid out like the project's ``data/`` (``boundaries/``, ``rasters/`` …).

    Yields
    ------
    Path
        The folder, with ``~`` expanded.

    Raises
    ------
    geo.errors.DataError
        If ``path`` holds no ``boundaries/`` folder (checked before the block runs).

    Examples
    --------
    >>> from geo.data import data_dir, use_data_dir
    >>> with use_data_dir(data_dir()) as folder:
    ...     data_dir() == folder
    True
    """
    folder = _checked(Path(path).expanduser(), f"data folder {path}", "or leave out --data")
    token = _DATA_DIR.set(folder)
    try:
        yield folder
    finally:
        _DATA_DIR.reset(token)


def data_dir() -> Path:
    """Return the folder that holds the shipped data (``boundaries/``, ``rasters/``, ``context/``).

    Returns
    -------
    Path
        The folder set by :func:`use_data_dir`, else ``GEO_BARRIER_DATA``, else the
        package's or the checkout's copy.

    Raises
    ------
    geo.errors.DataError
        If no data folder can be found, or ``GEO_BARRIER_DATA`` points nowhere.
    """
    chosen = _DATA_DIR.get()
    if chosen is not None:
        return chosen
    env = os.environ.get(ENV_VAR)
    if env:
        return _checked(Path(env).expanduser(), f"{ENV_VAR}={env}", "or unset it")
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / "boundaries").is_dir():
            return candidate
    raise DataError(
        f"cannot find the shipped data (looked in {here / '_data'} and {here.parent / 'data'}); "
        f"reinstall the package or set {ENV_VAR} to the project's data/ folder"
    )


def data_path(*parts: str) -> Path:
    """Return the path of a shipped file, e.g. ``data_path("rasters", "x.tif")``.

    Parameters
    ----------
    *parts : str
        Folder and file names under the data folder.

    Returns
    -------
    Path
        The file in :func:`data_dir`.

    Raises
    ------
    geo.errors.DataError
        If the file does not exist, naming it.
    """
    path = data_dir().joinpath(*parts)
    if not path.exists():
        raise DataError(
            f"shipped data file {path} is missing; reinstall the package or restore data/"
        )
    return path


def sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file (read in 1 MiB chunks).

    Inside :func:`remembered_digests` (every ``barrier`` command runs inside one) an
    unchanged file is read once: a run that records the same stack of layers in several
    manifests reads it once.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    chunk : int
        Bytes read at a time.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    memo = _DIGESTS.get()
    if memo is None:
        return _file_digest(path, chunk)
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in memo:
        memo[key] = _file_digest(path, chunk)
    return memo[key]


def _file_digest(path: str | os.PathLike, chunk: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


_DIGESTS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("digests", default=None)


@contextlib.contextmanager
def remembered_digests():
    """Within the block, :func:`sha256` reads each unchanged file once (one run's memory).

    The digest is remembered under the file's identity (real path, device, inode, size and
    modification time); nested blocks share the outer one. Outside any block every call
    reads the file.

    Examples
    --------
    >>> from geo.data import remembered_digests, sha256
    >>> with remembered_digests():  # doctest: +SKIP
    ...     sha256("a.tif") == sha256("a.tif")  # the second call reads nothing
    True
    """
    if _DIGESTS.get() is not None:
        yield
        return
    token = _DIGESTS.set({})
    try:
        yield
    finally:
        _DIGESTS.reset(token)


def remembering_digests(func):
    """Decorate a job so that its whole run is one :func:`remembered_digests` block."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        with remembered_digests():
            return func(*args, **kwargs)

    return run


CACHE_ENV_VAR = "GEO_BARRIER_CACHE"


def cache_dir() -> Path:
    """Return the folder for re-creatable caches (coverages, derived layers).

    ``GEO_BARRIER_CACHE`` if set, else ``$XDG_CACHE_HOME/geo-barrier`` (``~/.cache/geo-barrier``).
    Deleting it is always safe: everything in it is recomputed on demand.

    Returns
    -------
    Path
        The cache folder (not created here).
    """
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "geo-barrier"
