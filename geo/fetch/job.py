"""``barrier fetch``: yearly layers of a public source, cropped to the zones, with provenance.

Layout written under ``out`` (one folder per composite, ready for ``--stack``)::

    out/modis-ndvi-max/modis-ndvi-max_2001.tif …  provenance.json
    out/worldcover/worldcover_2020.tif …           provenance.json

Resumable: a year whose file is listed in ``provenance.json`` with a matching SHA-256 is not
fetched again. Every file is written under a temporary name and renamed once complete;
downloads go to a hidden work folder removed at the end, whatever happens.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from geo.errors import DataError, GeoWarning, OutputError, UsageError
from geo.fetch import http
from geo.fetch.raster import composite, target_grid
from geo.fetch.sources import Source
from geo.outputs import check_writable

__all__ = ["PROVENANCE", "fetch", "from_folder", "read_provenance"]

#: The provenance sidecar of each output folder.
PROVENANCE = "provenance.json"

Progress = Callable[..., None] | None


def _sha256(path: Path) -> str:
    from geo.data import sha256

    return sha256(path)


def read_provenance(folder: Path) -> dict:
    """The provenance record of ``folder`` (empty record if it has none).

    Parameters
    ----------
    folder : Path

    Returns
    -------
    dict
        With ``years``: ``{"2001": {"file", "sha256", …}}``.

    Raises
    ------
    geo.errors.DataError
        A ``provenance.json`` that is not the JSON ``barrier fetch`` writes.
    """
    path = folder / PROVENANCE
    if not path.exists():
        return {"years": {}}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record.get("years"), dict):
            raise ValueError
    except (ValueError, AttributeError):
        raise DataError(
            f"{path} is not a provenance record of barrier fetch; move it away or choose "
            "another folder"
        ) from None
    return record


def _write_provenance(folder: Path, record: dict) -> None:
    from geo.outputs import atomic_path

    with atomic_path(folder / PROVENANCE) as tmp:
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")


def _done(folder: Path, record: dict, year: int) -> bool:
    entry = record["years"].get(str(year))
    if not entry:
        return False
    path = folder / entry["file"]
    return path.is_file() and _sha256(path) == entry.get("sha256")


def _check_target(folder: Path, record: dict, name: str) -> None:
    """Refuse to overwrite a file that ``barrier fetch`` did not write."""
    path = folder / name
    listed = {e.get("file") for e in record["years"].values()}
    if path.exists() and name not in listed:
        raise OutputError(
            f"will not overwrite {path}: barrier fetch did not write it (it is not in "
            f"{PROVENANCE}); move it or choose another --out"
        )


def _clean_leftovers(folder: Path, *, parts: bool = True) -> None:
    """Remove what a killed run left: temporary files and work folders of dead processes.

    A ``.x.part.tif`` left in a source folder would be read as a layer of the stack.
    """
    if not folder.is_dir():
        return
    for path in folder.glob(".*.part*") if parts else ():
        path.unlink(missing_ok=True)
    for path in folder.glob(".download-*-*"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _check_years(source: Source, years: tuple[int, int]) -> list[int]:
    first, last = years
    lo, hi = source.years
    if first < lo or last > hi:
        raise UsageError(f"{source.name} covers {lo}–{hi}; --years {first}-{last} lies outside it")
    return list(range(first, last + 1))


def _base_record(source: Source, folder: str, kind: str, catalog: str, bbox) -> dict:
    return {
        "tool": "barrier fetch (geo-barrier)",
        "source": source.name,
        "product": folder,
        "what": source.what,
        "resolution": source.resolution,
        "licence": source.licence,
        "catalog": http.public_url(catalog),
        "collection": source.collection or None,
        "asset": source.asset,
        "composite": source.rule()
        if kind != "mosaic" or source.route == "stac"
        else "the year's file cropped to the zones",
        "bbox_wgs84": [round(float(v), 6) for v in bbox],
        "years": {},
    }


def fetch(
    source: Source,
    bbox,
    years: tuple[int, int],
    out: str | Path,
    *,
    catalog: str | None = None,
    progress: Progress = None,
) -> list[Path]:
    """Fetch the years ``years`` of ``source`` cropped to ``bbox`` into ``out``.

    Parameters
    ----------
    source : Source
    bbox : sequence of float
        West, south, east, north of the zones, degrees (EPSG:4326).
    years : tuple of int
        First and last year, inclusive.
    out : str or Path
        Parent folder of the source's folders.
    catalog : str, optional
        STAC API or checksum-list URL (default: the source's).
    progress : callable, optional
        Called as ``progress(message, advance=0|1)``; ``advance=1`` once per year.

    Returns
    -------
    list of Path
        The output folders (one per composite).

    Raises
    ------
    geo.errors.UsageError
        Years outside the source, no catalog for a source that needs one.
    geo.fetch.http.Unreachable
        The catalog or a file server cannot be reached.
    geo.errors.DataError
        A download that does not match its checksum.
    """
    wanted = _check_years(source, years)
    catalog = catalog or source.catalog
    if not catalog:
        what = (
            "a STAC API serving it as GeoTIFFs"
            if source.route == "stac"
            else ("a checksum list (SHA256SUMS beside the yearly files)")
        )
        raise UsageError(
            f"{source.name} has no open default catalog: give --catalog URL of {what}, or "
            "--from DIR with files prepared elsewhere"
        )
    out = check_writable(out)
    _clean_leftovers(out, parts=False)  # the user's folder: only our dead work folders
    folders = {kind: out / name for kind, name in source.folders().items()}
    records = {}
    for kind, folder in folders.items():
        _clean_leftovers(folder)
        records[kind] = read_provenance(folder)
        fresh = _base_record(source, folder.name, kind, catalog, bbox)
        if not records[kind]["years"]:
            records[kind] = fresh
        elif (records[kind].get("bbox_wgs84"), records[kind].get("catalog")) != (
            fresh["bbox_wgs84"],
            fresh["catalog"],
        ):
            raise UsageError(
                f"{folder} holds years fetched for another box or catalog "
                f"({records[kind].get('bbox_wgs84')}, {records[kind].get('catalog')}); years "
                "on other grids would not make one stack: choose another --out"
            )
    say = progress or (lambda *_a, **_k: None)
    todo = [y for y in wanted if not all(_done(folders[k], records[k], y) for k in folders)]
    for year in todo:
        for kind, folder in folders.items():
            entry = records[kind]["years"].get(str(year))
            if entry and (folder / entry["file"]).exists():
                warnings.warn(
                    f"{folder / entry['file']} changed since it was fetched (its SHA-256 "
                    f"differs from {PROVENANCE}); fetching {year} again",
                    GeoWarning,
                    stacklevel=2,
                )
    for year in wanted:
        if year not in todo:
            say(f"{year}: already fetched, checksum matches", advance=1)
    if not todo:
        return list(folders.values())
    created = not out.exists()
    try:
        _fetch_years(source, catalog, bbox, todo, out, folders, records, say)
    except BaseException:
        if created:  # leave no empty folders behind a failed first run
            for folder in sorted(out.rglob("*"), reverse=True):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            if out.is_dir() and not any(out.iterdir()):
                out.rmdir()
        raise
    return list(folders.values())


def _fetch_years(source, catalog, bbox, todo, out, folders, records, say) -> None:
    http_session = http.session()
    listed = None  # the checksum list of the http route, read once
    for year in todo:
        for kind, folder in folders.items():
            _check_target(folder, records[kind], f"{folder.name}_{year}.tif")
        out.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".download-{os.getpid()}-", dir=out))
        try:
            checks = None
            if source.route == "stac":
                (files, checks), used = _stac_year(
                    source, http_session, catalog, bbox, year, work, say
                )
            else:
                if listed is None:
                    say(f"{year}: reading the checksum list")
                    listed = http.checksum_list(http_session, catalog)
                files, used = _http_year(source, http_session, listed, catalog, year, work, say)
            if not files:
                warnings.warn(
                    f"{source.name}: no data for {year} in the zones' box at "
                    f"{http.public_url(catalog)}; "
                    "that year is left out",
                    GeoWarning,
                    stacklevel=2,
                )
                say(f"{year}: no data", advance=1)
                continue
            say(f"{year}: compositing {len(files)} file(s)")
            _write_year(source, (files, checks), bbox, year, folders, records, used)
            say(f"{year}: done", advance=1)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _write_year(source, inputs, bbox, year, folders, records, used) -> None:
    import rasterio.errors

    from geo.outputs import atomic_path

    files, checks = inputs
    grid = target_grid(files, bbox)
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        temps = {
            kind: stack.enter_context(atomic_path(folder / f"{folder.name}_{year}.tif"))
            for kind, folder in folders.items()
        }
        try:
            composite(
                files,
                grid,
                temps,
                scale=source.scale,
                categorical=source.categorical,
                valid=source.valid,
                quality=checks,
                good=source.good,
            )
        except rasterio.errors.RasterioError as exc:  # GDAL: disk full, unreadable block …
            raise OutputError(
                f"cannot write the {year} layers into {next(iter(folders.values())).parent}: "
                f"{exc}; check the free space or choose another --out"
            ) from None
        sums = {kind: _sha256(path) for kind, path in temps.items()}
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for kind, folder in folders.items():
        records[kind]["years"][str(year)] = {
            "file": f"{folder.name}_{year}.tif",
            "sha256": sums[kind],
            "fetched": now,
            "inputs": used,
        }
        _write_provenance(folder, records[kind])


def _stac_year(source, session, catalog, bbox, year, work, say):
    m0, m1 = source.months
    end = (dt.date(year + (m1 == 12), m1 % 12 + 1, 1) - dt.timedelta(days=1)).isoformat()
    say(f"{year}: searching {source.collection}")
    items = http.search_items(catalog, source.collection, bbox, f"{year}-{m0:02d}-01", end)
    sign = http.signer(session, catalog)
    files, checks, used = [], [], []
    for n, item in enumerate(items):
        asset = item.assets.get(source.asset)
        if asset is None:
            continue
        stem = f"{n:04d}_{re.sub(r'[^A-Za-z0-9_.-]', '_', item.id)}"
        say(f"{year}: downloading item {n + 1}/{len(items)} {item.id}")
        digest = http.download(session, sign(asset.href), work / f"{stem}.tif")
        files.append(work / f"{stem}.tif")
        when = item.datetime or item.properties.get("start_datetime")
        record = {
            "item": item.id,
            "datetime": when.isoformat() if hasattr(when, "isoformat") else str(when),
            "url": http.public_url(asset.href),
            "sha256": digest,
        }
        checks.append(None)
        if source.quality:
            check = item.assets.get(source.quality)
            if check is None:
                raise DataError(
                    f"item {item.id} of {source.collection} has no {source.quality} asset, "
                    "needed to drop cloudy and snowy cells; check --catalog"
                )
            path = work / f"{stem}.quality.tif"
            record["quality_url"] = http.public_url(check.href)
            record["quality_sha256"] = http.download(session, sign(check.href), path)
            checks[-1] = path
        used.append(record)
    return (files, checks if source.quality else None), used


def _http_year(source, session, listed, catalog, year, work, say):
    pattern = re.compile(source.asset.replace("{year}", str(year)))
    names = sorted(name for name in listed if pattern.fullmatch(name))
    if not names:
        some = ", ".join(sorted(listed)[:3])
        raise DataError(
            f"{http.public_url(catalog)} lists no file of {year} for {source.name} (none matches "
            f"{pattern.pattern}; it lists {some} …); give --catalog of the right list"
        )
    files, used = [], []
    for name in names:
        url, expected = listed[name]
        say(f"{year}: downloading {name}")
        dest = work / name
        digest = http.download(session, url, dest, expected=expected)
        files.append(dest)
        used.append(
            {"file": name, "url": http.public_url(url), "published": expected, "sha256": digest}
        )
    return files, used


def from_folder(
    source: Source,
    prepared: str | Path,
    years: tuple[int, int],
    out: str | Path,
    *,
    progress: Progress = None,
) -> list[Path]:
    """Copy the years ``years`` of ``source`` from a folder prepared elsewhere, checked.

    ``prepared`` is a ``--out`` folder of ``barrier fetch`` run on another machine (it holds
    ``<source>/`` or ``<source>-max/`` …), or one of its source folders. Every file is checked
    against the SHA-256 in that folder's ``provenance.json`` before anything is copied.

    Parameters
    ----------
    source : Source
    prepared : str or Path
    years : tuple of int
    out : str or Path
    progress : callable, optional

    Returns
    -------
    list of Path
        The output folders.

    Raises
    ------
    geo.errors.DataError
        A folder, year or file missing, or a file whose checksum does not match (named).
    """
    prepared = Path(prepared)
    out = check_writable(out)
    say = progress or (lambda *_a, **_k: None)
    if not prepared.is_dir():
        raise DataError(f"--from {prepared} is not a folder; give the folder barrier fetch wrote")
    plan = []
    for name in source.folders().values():
        src = prepared if prepared.name == name else prepared / name
        record = read_provenance(src)
        if not (src / PROVENANCE).exists():
            raise DataError(
                f"--from {prepared} has no {name}/{PROVENANCE}; give the --out folder of "
                f"'barrier fetch {source.name}' run elsewhere"
            )
        for year in range(years[0], years[1] + 1):
            entry = record["years"].get(str(year))
            if entry is None:
                raise DataError(
                    f"{src / PROVENANCE} lists no {year}; fetch that year where there is network"
                )
            path = src / entry["file"]
            if not path.is_file():
                raise DataError(f"{path} is missing; copy the whole folder again")
            if _sha256(path) != entry["sha256"]:
                raise DataError(
                    f"{path} does not match the SHA-256 in its {PROVENANCE}: it was changed or "
                    "damaged in transit; copy it again"
                )
        plan.append((src, out / name, record))
    for src, dest, record in plan:
        if dest.resolve() == src.resolve():
            continue
        _copy_checked(src, dest, record, years, say)
    return [dest for _, dest, _ in plan]


def _copy_checked(src: Path, dest: Path, record: dict, years, say) -> None:
    from geo.outputs import atomic_path

    _clean_leftovers(dest)
    mine = read_provenance(dest)
    if not mine["years"]:
        mine = {**record, "years": {}}
    mine["copied_from"] = str(src.absolute())
    for year in range(years[0], years[1] + 1):
        entry = record["years"][str(year)]
        if _done(dest, mine, year) and mine["years"][str(year)]["sha256"] == entry["sha256"]:
            say(f"{year}: already there, checksum matches", advance=1)
            continue
        _check_target(dest, mine, entry["file"])
        dest.mkdir(parents=True, exist_ok=True)
        with atomic_path(dest / entry["file"]) as tmp:
            shutil.copyfile(src / entry["file"], tmp)
            if _sha256(tmp) != entry["sha256"]:
                raise DataError(f"{src / entry['file']} changed while it was copied; copy again")
        mine["years"][str(year)] = entry
        _write_provenance(dest, mine)
        say(f"{year}: copied from {src}", advance=1)
