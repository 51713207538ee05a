"""Stacks of yearly rasters on one grid: a folder, a list of files or one multi-band file.

A *stack* is the input of every time-series computation (per-pixel trends, yearly series per
zone). Its layers share one grid (CRS, transform, shape) — the caller brings them to one grid
first; a layer on another grid is refused with the file named. Layers are read window by window
(all years of a block of rows at once), so memory stays bounded whatever the number of years
and the raster size.

Examples
--------
>>> from geo.stack import Stack
>>> stack = Stack.open("ndvi_yearly/")            # doctest: +SKIP
>>> stack.years                                   # doctest: +SKIP
(2000, 2001, ..., 2024)
>>> for window, block in stack.blocks():         # doctest: +SKIP
...     block.shape                               # (years, rows, cols), NaN where no data
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geo.errors import DataError, UsageError

__all__ = ["YEAR_PATTERN", "Stack", "parse_year_list", "parse_years"]

#: A four-digit year 1950–2199 standing alone in a file name (not part of a longer number).
YEAR_PATTERN = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d|21\d\d)(?!\d)")
_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".nc")
#: Largest bytes of one block (years × rows × columns) read at once; two are in memory.
BLOCK_BYTES = 256 << 20
#: Threads GDAL decodes the tiles of one block on (the next block is read while the current
#: one is computed, so these threads use what the computation leaves of the cores).
READ_THREADS = 2


def parse_years(text: str) -> tuple[int, int]:
    """Parse ``"2000-2024"`` (or a single ``"2020"``) into ``(first, last)``, inclusive.

    Raises
    ------
    geo.errors.UsageError
        Not a year or a range of years, or the range is reversed.
    """
    match = re.fullmatch(r"\s*(\d{4})\s*(?:[-–:]\s*(\d{4})\s*)?", str(text))
    if not match:
        raise UsageError(f"years {text!r} are not a year or a range like 2000-2024")
    first, last = int(match[1]), int(match[2] or match[1])
    if last < first:
        raise UsageError(f"years {text!r} run backwards; write {last}-{first}")
    return first, last


def parse_year_list(text: str, source: str = "") -> tuple[int, ...]:
    """Parse ``"2000,2005,2010-2012"`` into ``(2000, 2005, 2010, 2011, 2012)``.

    Items are separated by commas; each is a year or an inclusive range ``A-B`` (every year
    of it). ``"2000-2024"`` alone gives every year from 2000 to 2024.

    Parameters
    ----------
    text : str
        The years (``--years``).
    source : str
        The stack they are for, named in the messages.

    Returns
    -------
    tuple of int
        The years, increasing (as given: a list out of order is refused).

    Raises
    ------
    geo.errors.UsageError
        An item that is not a year or a range, a range that runs backwards, a year twice,
        years out of order.
    """
    found: list[int] = []
    for item in str(text).split(","):
        match = re.fullmatch(r"\s*(\d{4})\s*(?:[-–:]\s*(\d{4})\s*)?", item)
        if not match:
            raise _years_error(text, source, f"{item.strip()!r} is not a year or a range of years")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first:
            raise _years_error(
                text, source, f"{item.strip()} runs backwards (write {last}-{first})"
            )
        found += range(first, last + 1)
    twice = sorted({y for y in found if found.count(y) > 1})
    if twice:
        raise _years_error(text, source, f"{twice[0]} is given twice")
    # in the order given (the years of a multi-band file's bands): refuse a list out of order
    back = next((b for a, b in itertools.pairwise(found) if b < a), None)
    if back is not None:
        raise _years_error(text, source, f"{back} comes after a later year; list them in order")
    return tuple(found)


def _years_error(text, source: str, why: str, hint: str = "") -> UsageError:
    where = f" for stack {source}" if source else ""
    hint = hint or "give years and ranges like 2000,2005,2010-2012 or 2000-2024"
    return UsageError(f"--years {text!r}{where}: {why}; {hint}")


@dataclass(frozen=True)
class Stack:
    """Yearly layers on one grid, in year order.

    Attributes
    ----------
    paths : tuple of Path
        The file of each layer (the same file repeated for a multi-band stack).
    bands : tuple of int
        The band read from each file (1-based).
    years : tuple of int
        The year of each layer, strictly increasing.
    source : str
        What the stack was made from (folder, file), for messages and provenance.
    """

    paths: tuple[Path, ...]
    bands: tuple[int, ...]
    years: tuple[int, ...]
    source: str

    def __post_init__(self) -> None:
        """Refuse an empty stack, a repeated year and years out of order."""
        if not self.years:
            raise DataError(f"stack {self.source} holds no layer; give at least two years")
        if len(set(self.years)) != len(self.years):
            seen = [y for y in self.years if self.years.count(y) > 1]
            raise DataError(
                f"stack {self.source} has year {seen[0]} twice; keep one layer per year"
            )
        if list(self.years) != sorted(self.years):
            raise DataError(f"stack {self.source}: years must increase ({self.years})")

    # -- constructors ------------------------------------------------------------------------

    @classmethod
    def open(cls, spec, years: Sequence[int] | str | None = None) -> Stack:
        """A stack from a folder, a list of files or a multi-band file.

        Parameters
        ----------
        spec : str, Path or sequence of them
            A folder (every raster whose name holds a year), a multi-band file (one band per
            year; ``years`` required) or a list of files (years from their names, or
            ``years``).
        years : sequence of int or str, optional
            The years of a multi-band file or of a list of files (a sequence, ``"2000-2024"``
            or ``"2000,2005,2010-2012"``). For a folder: a range ``"2000-2024"`` selects the
            layers in it; a sequence (``[2000, 2005, 2010]``) or a list form
            (``"2000,2005,2010-2012"``, see :func:`parse_year_list`) selects exactly those
            years, each of which the folder must hold.

        Raises
        ------
        geo.errors.DataError
            Missing files, no year in a name, repeated years, layers on different grids.
        geo.errors.UsageError
            Years that are not years, a range that runs backwards, a year the folder lacks.
        """
        if isinstance(spec, (list, tuple)):
            return cls.from_files(spec, years)
        path = Path(spec)
        if path.is_dir():
            stack = cls.from_folder(path)
            if years is None:
                return stack
            if isinstance(years, str) and "," not in years:  # a range: the layers in it
                wanted = parse_year_list(years, str(path))  # refused here, the folder named
                return stack.select((wanted[0], wanted[-1]))
            return stack.only(years)
        if not path.exists():
            raise DataError(f"stack {path} does not exist; give a folder of yearly GeoTIFFs")
        return cls.from_multiband(path, years)

    @classmethod
    def from_folder(cls, folder: str | Path) -> Stack:
        """Every raster in ``folder`` whose file name holds a year (``ndvi_2001.tif`` …)."""
        folder = Path(folder)
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _SUFFIXES)
        if not files:
            raise DataError(
                f"stack folder {folder} holds no raster ({', '.join(_SUFFIXES)}); "
                "put one GeoTIFF per year in it, with the year in each name"
            )
        return cls.from_files(files, source=str(folder))

    @classmethod
    def from_files(cls, files, years=None, *, source: str | None = None) -> Stack:
        """Files in any order; years from ``years`` or else from each file name."""
        paths = [Path(f) for f in files]
        for p in paths:
            if not p.is_file():
                raise DataError(f"stack layer {p} does not exist; check the path")
        found = _years_for(paths, years)
        order = np.argsort(found, kind="stable")
        stack = cls(
            tuple(paths[i] for i in order),
            (1,) * len(paths),
            tuple(int(found[i]) for i in order),
            source or f"{len(paths)} files",
        )
        stack.grid()  # refuse mixed grids now, naming the file
        return stack

    @classmethod
    def from_multiband(cls, path: str | Path, years) -> Stack:
        """One file, one band per year (``years`` gives the year of each band, in order)."""
        path = Path(path)
        with _open(path) as src:
            count = src.count
        if years is None:
            raise UsageError(
                f"{path} is one file with {count} band(s): give the year of each band "
                "(--years 2000-2024, or a list)"
            )
        wanted = _year_list(years, str(path))
        if len(wanted) != count:
            raise UsageError(
                f"{path} has {count} bands but {len(wanted)} years were given "
                f"({wanted[0]}–{wanted[-1]}); give one year per band"
            )
        return cls((path,) * count, tuple(range(1, count + 1)), tuple(wanted), str(path))

    # -- queries -----------------------------------------------------------------------------

    def __len__(self) -> int:
        """The number of layers (years)."""
        return len(self.years)

    def select(self, years) -> Stack:
        """The layers whose year lies in ``years`` (``"2005-2020"`` or ``(first, last)``)."""
        first, last = parse_years(years) if isinstance(years, str) else years
        keep = [i for i, y in enumerate(self.years) if first <= y <= last]
        if not keep:
            raise UsageError(
                f"--years {first}-{last}: stack {self.source} has no layer in {first}–{last} "
                f"(it holds {_held(self.years)}); choose years it holds"
            )
        return self._subset(keep)

    def only(self, years: Sequence[int] | str) -> Stack:
        """The layers of exactly ``years`` (a sequence, or ``"2000,2005,2010-2012"``).

        Raises
        ------
        geo.errors.UsageError
            Not years, a year twice, or a year the stack has no layer for (all named).
        """
        years = years if isinstance(years, str) else list(years)
        text = years if isinstance(years, str) else ",".join(str(y) for y in years)
        if isinstance(years, str):
            wanted = parse_year_list(years, self.source)
        else:
            whole = [y for y in years if isinstance(y, int | np.integer)]
            if len(whole) != len(years):
                raise _years_error(text, self.source, "give whole years (int)")
            wanted = tuple(sorted(int(y) for y in whole))
            if len(set(wanted)) != len(wanted):
                twice = next(y for y in wanted if wanted.count(y) > 1)
                raise _years_error(text, self.source, f"{twice} is given twice")
        if not wanted:
            raise _years_error(text, self.source, "no year given")
        missing = [y for y in wanted if y not in self.years]
        if missing:
            raise _years_error(
                text,
                self.source,
                f"no layer for {', '.join(map(str, missing))} (it holds {_held(self.years)})",
                "choose years it holds, or add their layers to it",
            )
        return self._subset([self.years.index(y) for y in wanted])

    def _subset(self, keep: list[int]) -> Stack:
        return Stack(
            tuple(self.paths[i] for i in keep),
            tuple(self.bands[i] for i in keep),
            tuple(self.years[i] for i in keep),
            self.source,
        )

    def grid(self) -> dict:
        """The common grid: ``crs``, ``transform``, ``width``, ``height`` (checked for all).

        Raises
        ------
        geo.errors.DataError
            A layer without CRS, or on a grid other than the first layer's (file named).
        """
        first = None
        for path in dict.fromkeys(self.paths):
            with _open(path) as src:
                if src.crs is None:
                    raise DataError(f"stack layer {path} has no CRS; assign one (gdal_edit -a_srs)")
                grid = {
                    "crs": src.crs,
                    "transform": src.transform,
                    "width": src.width,
                    "height": src.height,
                }
            if first is None:
                first, first_path = grid, path
            elif grid != first:
                what = [k for k in grid if grid[k] != first[k]]
                raise DataError(
                    f"stack layer {path} is on another grid than {first_path} "
                    f"({', '.join(what)} differ); resample the layers to one grid first "
                    "(gdalwarp -tap -tr … -te …)"
                )
        return first

    def dtype(self) -> np.dtype:
        """The type of the blocks: float32, or float64 when a layer needs it.

        float64 layers and integers wider than 16 bits need float64 (float32 cannot hold them
        exactly).
        """
        wide = ("float64", "int32", "uint32", "int64", "uint64")
        for path, band in zip(self.paths, self.bands, strict=True):
            with _open(path) as src:
                if src.dtypes[band - 1] in wide:
                    return np.dtype("float64")
        return np.dtype("float32")

    def blocks(
        self, rows: int | None = None, *, reuse: bool = False
    ) -> Iterator[tuple[object, np.ndarray]]:
        """Yield ``(window, values)`` for consecutive blocks of the grid.

        ``values`` has shape ``(years, rows, cols)`` and the type :meth:`dtype`, NaN where a
        layer has no data (declared nodata, a per-dataset mask, or non-finite values). Without
        ``rows``, blocks follow the first layer's internal tiles (whole rows of tiles, or
        runs of tiles when a row of them would not fit :data:`BLOCK_BYTES`), so GDAL decodes
        every tile once whatever its block cache; with ``rows``, blocks are strips of that many
        full rows. The next block is read on a background thread (GDAL decodes its tiles on
        two threads, without the GIL) while the caller works on the current one, so at most
        two blocks are in memory.

        With ``reuse``, the blocks are read into two buffers in turn: a block's values are
        overwritten two blocks later, so the caller must be done with them (or copy them) by
        then. It spares the operating system zeroing fresh memory for every block (about a
        tenth of the CPU time of a per-pixel trend).
        """
        from concurrent.futures import ThreadPoolExecutor
        from contextlib import ExitStack

        import rasterio

        from geo.zonal import get_options

        dtype = self.dtype()
        windows = self._windows(rows, dtype)
        cache = get_options()["gdal_cachemax_mb"]
        with ExitStack() as stack:
            # GDAL takes a file's decoding threads when it opens it
            handles = {
                p: stack.enter_context(_open(p, threads=READ_THREADS))
                for p in dict.fromkeys(self.paths)
            }
            pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="geo-stack"))

            size = max(len(self) * w.height * w.width for w in windows)
            buffers = [np.empty(size, dtype), np.empty(size, dtype)] if reuse else None

            def read(k: int):
                window = windows[k]
                shape = (len(self), window.height, window.width)
                if reuse:  # a contiguous view of the buffer's first cells
                    out = buffers[k % 2][: shape[0] * shape[1] * shape[2]].reshape(shape)
                else:
                    out = np.empty(shape, dtype)
                with rasterio.Env(GDAL_CACHEMAX=cache):
                    for i, (path, band) in enumerate(zip(self.paths, self.bands, strict=True)):
                        _read(handles[path], band, window, path, out[i])
                return window, out

            pending = pool.submit(read, 0)
            for k in range(len(windows)):
                block = pending.result()
                if k + 1 < len(windows):
                    pending = pool.submit(read, k + 1)
                yield block

    def _windows(self, rows: int | None, dtype: np.dtype) -> list:
        """The windows of :meth:`blocks`: tile-aligned, or strips of ``rows`` rows."""
        from rasterio.windows import Window

        grid = self.grid()
        height, width = grid["height"], grid["width"]
        if rows:
            return [Window(0, r, width, min(rows, height - r)) for r in range(0, height, rows)]
        with _open(self.paths[0]) as src:
            tile_h, tile_w = src.block_shapes[self.bands[0] - 1]
        per_row = len(self) * width * dtype.itemsize  # bytes of one row of every year
        bands = max(1, BLOCK_BYTES // 2 // (per_row * tile_h))  # rows of tiles a block
        cols = width
        if per_row * tile_h > BLOCK_BYTES:  # one row of tiles is too large: runs of tiles
            cols = max(1, BLOCK_BYTES // (len(self) * dtype.itemsize * tile_h * tile_w)) * tile_w
        step = bands * tile_h
        return [
            Window(c, r, min(cols, width - c), min(step, height - r))
            for r in range(0, height, step)
            for c in range(0, width, cols)
        ]

    def to_dataarray(self, chunks: int | dict | None = 1024):
        """The stack as one lazy :class:`xarray.DataArray` (``year``, ``y``, ``x``).

        Read with rioxarray (declared nodata → NaN, float64), one Dask chunk per
        ``chunks`` × ``chunks`` cells holding every year, ready for
        :func:`geo.trends.trend_dataset` or any xarray computation; ``None`` reads into
        memory.

        Raises
        ------
        geo.errors.UsageError
            rioxarray is not installed (``pip install geo-barrier[xarray]``).
        """
        try:
            import rioxarray
            import xarray as xr
        except ImportError:
            raise UsageError(
                "stacks as xarray need rioxarray: pip install rioxarray (or the [xarray] extra)"
            ) from None
        self.grid()
        if isinstance(chunks, int):
            chunks = {"y": chunks, "x": chunks}
        layers = []
        for path, band in zip(self.paths, self.bands, strict=True):
            da = rioxarray.open_rasterio(path, masked=True, chunks=chunks)
            layers.append(da.sel(band=band, drop=True).astype("float64"))
        out = xr.concat(layers, dim="year").assign_coords(year=list(self.years))
        if chunks is not None:
            out = out.chunk({"year": -1})  # per-pixel series need every year in one chunk
        out.name = Path(self.source).name
        return out


def _open(path: Path, threads: int | None = None):
    import rasterio

    options = {"NUM_THREADS": str(threads)} if threads else {}
    try:
        return rasterio.open(path, **options)
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f"stack layer {path} cannot be read ({exc}); is it a raster?") from None


def _read(src, band: int, window, path: Path, out: np.ndarray) -> None:
    """One band of a window into ``out`` (float), NaN where there is no data."""
    try:
        src.read(band, window=window, out=out, out_dtype=out.dtype)
        nodata = src.nodatavals[band - 1]
        mask = None
        if nodata is None and _has_mask(src, band):
            mask = src.read_masks(band, window=window) == 0
    except Exception as exc:  # GDAL raises several classes for a damaged file
        raise DataError(f"stack layer {path} band {band} cannot be read ({exc})") from None
    if nodata is not None and not np.isnan(nodata):
        out[out == out.dtype.type(nodata)] = np.nan
    if mask is not None:
        out[mask] = np.nan
    out[~np.isfinite(out)] = np.nan


def _has_mask(src, band: int) -> bool:
    """Whether a band without nodata has a real mask (a per-dataset mask band or alpha)."""
    from rasterio.enums import MaskFlags

    flags = src.mask_flag_enums[band - 1]
    return MaskFlags.per_dataset in flags or MaskFlags.alpha in flags


def _year_list(years, source: str = "") -> list[int]:
    if isinstance(years, str):
        return list(parse_year_list(years, source))
    return [int(y) for y in years]


def _held(years: Sequence[int]) -> str:
    """``2000–2012`` for consecutive years, else the list (``2000, 2005, 2010``)."""
    if list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(map(str, years))


def _years_for(paths: list[Path], years) -> list[int]:
    if years is not None:
        found = _year_list(years)
        if len(found) != len(paths):
            raise UsageError(f"{len(paths)} files but {len(found)} years; give one per file")
        return found
    found = []
    for p in paths:
        hits = set(YEAR_PATTERN.findall(p.stem))
        if len(hits) != 1:
            what = "no year" if not hits else f"several years ({', '.join(sorted(hits))})"
            raise DataError(
                f"stack layer {p} has {what} in its name; name each file with one four-digit "
                "year (ndvi_2001.tif) or give the years"
            )
        found.append(int(hits.pop()))
    return found
