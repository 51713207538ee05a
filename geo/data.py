"""Where the shipped data live, whether the package is installed editable or not.

Lookup order for the data folder:

1. the environment variable ``GEO_BARRIER_DATA`` (a folder laid out like ``data/``);
2. ``geo/_data`` inside the installed package (a wheel carries ``data/`` there);
3. ``data/`` at the top of a source checkout (editable installs, running from the repo).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from geo.errors import DataError

__all__ = ["CACHE_ENV_VAR", "ENV_VAR", "cache_dir", "data_dir", "data_path", "sha256"]

ENV_VAR = "GEO_BARRIER_DATA"


def data_dir() -> Path:
    """Return the folder that holds the shipped data (``boundaries/``, ``rasters/``, ``context/``).

    Raises
    ------
    geo.errors.DataError
        If no data folder can be found, or ``GEO_BARRIER_DATA`` points nowhere.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        if not (path / "boundaries").is_dir():
            raise DataError(
                f"{ENV_VAR}={env} does not hold a boundaries/ folder; point it at a copy of the "
                "project's data/ folder or unset it"
            )
        return path
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
    """Return the hex SHA-256 of a file (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


CACHE_ENV_VAR = "GEO_BARRIER_CACHE"


def cache_dir() -> Path:
    """Return the folder for re-creatable caches (coverages, derived layers).

    ``GEO_BARRIER_CACHE`` if set, else ``$XDG_CACHE_HOME/geo-barrier`` (``~/.cache/geo-barrier``).
    Deleting it is always safe: everything in it is recomputed on demand.
    """
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "geo-barrier"
