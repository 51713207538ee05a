"""Trend rasters of a stack and their per-zone summaries (``barrier trend``).

:func:`trend_rasters` streams a :class:`geo.stack.Stack` block by block through
:func:`geo.trends.mann_kendall` and writes ``trend_slope.tif`` (layer units per year),
``trend_p.tif`` (two-sided p-value), ``trend_class.tif`` (1 degrading, 2 stable, 3 improving,
0 no data) and ``trend_n.tif`` (valid years), each written to a temporary file and renamed
when complete. :func:`zone_summary` gives, per zone, the exact ground areas of each class
(km², ha, mu, % of the zone's valid area) and the area-weighted mean slope.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo import trends
from geo.outputs import atomic_path
from geo.stack import Stack

__all__ = ["TREND_FILES", "TrendFiles", "trend_rasters", "zone_summary"]

#: File name of each trend raster, by role.
TREND_FILES = {
    "slope": "trend_slope.tif",
    "p": "trend_p.tif",
    "class": "trend_class.tif",
    "n": "trend_n.tif",
}
_NAN32 = np.float32(np.nan)


@dataclass(frozen=True)
class TrendFiles:
    """The rasters written by :func:`trend_rasters` and how they were made."""

    slope: Path
    p: Path
    cls: Path
    n: Path
    years: tuple[int, ...]
    alpha: float
    min_years: int
    autocorrelation: bool


def trend_rasters(
    stack: Stack,
    out: str | Path,
    *,
    alpha: float = 0.05,
    min_years: int = 5,
    autocorrelation: bool = False,
    rows: int | None = None,
    progress=None,
) -> TrendFiles:
    """Write the per-pixel trend rasters of ``stack`` into the folder ``out``.

    Parameters
    ----------
    stack : geo.stack.Stack
        Yearly layers on one grid.
    out : str or Path
        Folder (created if needed); existing trend files in it are replaced only when the
        new ones are complete.
    alpha : float
        Significance level of the classes.
    min_years : int
        Fewest valid years for a trend (pixels with fewer are no data).
    autocorrelation : bool
        Hamed–Rao correction of the Mann–Kendall variance.
    rows : int, optional
        Rows per block (default: about 256 MiB of float64 values per block).
    progress : callable, optional
        Called with ``(rows done, rows in total)`` after each block.

    Returns
    -------
    TrendFiles
        The four files and the parameters used.
    """
    import rasterio

    grid = stack.grid()
    out = Path(out)
    years = np.asarray(stack.years, "float64")
    profile = {
        "driver": "GTiff",
        "width": grid["width"],
        "height": grid["height"],
        "count": 1,
        "crs": grid["crs"],
        "transform": grid["transform"],
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    kinds = {
        "slope": {"dtype": "float32", "nodata": _NAN32},
        "p": {"dtype": "float32", "nodata": _NAN32},
        "class": {"dtype": "uint8", "nodata": trends.NO_DATA},
        "n": {"dtype": "int16", "nodata": -1},
    }
    with ExitStack() as files:
        temps = {k: files.enter_context(atomic_path(out / name)) for k, name in TREND_FILES.items()}
        dst = {
            k: files.enter_context(rasterio.open(temps[k], "w", **profile, **kinds[k]))
            for k in TREND_FILES
        }
        for window, block in stack.blocks(rows):
            result = trends.mann_kendall(
                block, years, min_years=min_years, autocorrelation=autocorrelation, alpha=alpha
            )
            cls = trends.classify(result.slope, result.p, alpha)
            n = np.where(result.n >= min_years, result.n, -1).astype("int16")
            dst["slope"].write(result.slope.astype("float32"), 1, window=window)
            dst["p"].write(result.p.astype("float32"), 1, window=window)
            dst["class"].write(cls, 1, window=window)
            dst["n"].write(n, 1, window=window)
            if progress:
                progress(window.row_off + window.height, grid["height"])
        for handle in dst.values():
            handle.update_tags(
                years=f"{stack.years[0]}-{stack.years[-1]}",
                alpha=str(alpha),
                min_years=str(min_years),
                method="Theil-Sen slope; Mann-Kendall test"
                + (" with Hamed-Rao correction" if autocorrelation else ""),
            )
        for handle in list(dst.values()):
            handle.close()
    return TrendFiles(
        out / TREND_FILES["slope"],
        out / TREND_FILES["p"],
        out / TREND_FILES["class"],
        out / TREND_FILES["n"],
        tuple(stack.years),
        alpha,
        min_years,
        autocorrelation,
    )


def zone_summary(zones, files: TrendFiles, *, id_column: str = "zone") -> pd.DataFrame:
    """Per zone: ground area of each trend class and the area-weighted mean slope.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Polygon zones (any CRS), indexed by their identifier.
    files : TrendFiles
        The rasters of :func:`trend_rasters`.
    id_column : str
        Name of the identifier column of the table.

    Returns
    -------
    pandas.DataFrame
        ``id_column``, ``name_zh``/``name_en`` when the zones have them, then
        ``improving_km2``, ``stable_km2``, ``degrading_km2`` (and ``_ha``, ``_mu``,
        ``_pct`` of the zone's area with a trend), ``trend_area_km2`` (area with enough
        valid years), ``no_trend_data_km2`` and ``mean_slope_per_year`` (ground-area
        weighted, layer units per year).
    """
    from geo.units import convert
    from geo.zonal import zonal_stats

    classes = zonal_stats(zones, files.cls, ("count",), categorical=True)
    slope = zonal_stats(zones, files.slope, ("area_mean",))
    table = pd.DataFrame({id_column: list(zones.index)}, index=zones.index)
    for col in ("name_zh", "name_en"):
        if col in zones.columns:
            table[col] = zones[col].to_numpy()
    valid = np.zeros(len(zones))
    for code in (trends.IMPROVING, trends.STABLE, trends.DEGRADING):
        area = classes.get(f"area_km2_{code}", pd.Series(0.0, index=classes.index))
        valid += area.to_numpy()
    for code in (trends.IMPROVING, trends.STABLE, trends.DEGRADING):
        word = trends.CLASS_NAMES[code][1]
        area = classes.get(f"area_km2_{code}", pd.Series(0.0, index=classes.index)).to_numpy()
        table[f"{word}_km2"] = area
        table[f"{word}_ha"] = convert(area, "km2", "ha")
        table[f"{word}_mu"] = convert(area, "km2", "mu")
        with np.errstate(invalid="ignore", divide="ignore"):
            table[f"{word}_pct"] = np.where(valid > 0, 100.0 * area / valid, np.nan)
    table["trend_area_km2"] = valid
    table["no_trend_data_km2"] = classes["nodata_area_km2"].to_numpy()
    table["mean_slope_per_year"] = slope["area_mean"].to_numpy()
    return table.reset_index(drop=True)
