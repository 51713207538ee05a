"""The on-disk cache of derived and corrected layers.

Entries are checksummed, written last-file-last, and discarded with a warning when corrupt.
"""

from __future__ import annotations

import json
from pathlib import Path

from geo.outputs import atomic_path

__all__ = ["META", "SUMS", "cached_meta", "write_cache"]


META = "layers.json"


SUMS = "checksums.json"


def cached_meta(folder: Path, meta_name: str, files: list[Path], what: str) -> dict | None:
    """The metadata of a cache entry if it is complete and intact, else None.

    An absent entry is simply None; a corrupt one (unreadable JSON, missing file, checksum
    mismatch) is discarded with a warning so that it is rebuilt.
    """
    import warnings

    from geo.data import sha256
    from geo.errors import GeoWarning

    meta_path = folder / meta_name
    if not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if isinstance(meta, dict) and "sha256" not in meta:
            return None  # written by an earlier version, without checksums: rebuilt quietly
        sums = meta["sha256"]
        for path in files:
            if not path.is_file():
                raise ValueError(f"{path.name} is missing")
            if sha256(path) != sums[path.name]:
                raise ValueError(f"{path.name} does not match its recorded SHA-256")
        names = [p.stem for p in files]
        if meta_name == META and not all(
            {"kind", "unit", "method", "classes"} <= set(meta[n]) for n in names
        ):
            raise ValueError("the layer descriptions are incomplete")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = f"{type(exc).__name__}: {exc}" if isinstance(exc, KeyError) else str(exc)
        warnings.warn(
            f"the {what} cache {folder} is corrupt ({reason}); discarding it and rebuilding",
            GeoWarning,
            stacklevel=3,
        )
        _discard(folder, [meta_path, *files])
        return None
    return meta


def _discard(folder: Path, paths: list[Path]) -> None:
    """Remove the files of a corrupt cache entry (only ours: nothing else in the folder)."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise _cache_error(folder, exc) from None


def write_cache(folder: Path, write, files: list[Path], extra: dict, meta_name: str = META):
    """Write a cache entry: ``write()`` makes ``files``, then the metadata with checksums.

    The metadata is written last (atomically), so an entry interrupted midway has none and
    is rebuilt. Errors name the cache folder, not the output.
    """
    from geo.data import sha256
    from geo.errors import OutputError

    try:
        folder.mkdir(parents=True, exist_ok=True)
        write()
        meta = {**extra, "sha256": {path.name: sha256(path) for path in files}}
        with atomic_path(folder / meta_name) as tmp:
            tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    except (OSError, OutputError) as exc:
        raise _cache_error(folder, exc) from None
    return meta


def _cache_error(folder: Path, exc: Exception):
    from geo.data import CACHE_ENV_VAR
    from geo.errors import OutputError

    # an OutputError of atomic_path: keep its reason, not its advice about --out
    reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc).split(";")[0]
    return OutputError(
        f"cannot write the cache folder {folder} ({reason}); give a writable --cache folder "
        f"(or set {CACHE_ENV_VAR}), or free space there"
    )
