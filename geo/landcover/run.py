"""A run's fine land-cover input (``--landcover FILE --landcover-scheme S``) and its indicators.

:class:`LandCover` holds the user's raster, its scheme and its SHA-256; it computes (once per
zone set, kept for the run, from one streamed read of the raster) the exact group areas on
the raster's own grid and the grassland weights of the FVC grid, and :meth:`LandCover.apply`
puts the land-cover values of forest area and coverage, grassland area, cropland area and
grassland cover into a table of :func:`geo.indicators.compute`. The values stay labelled
proxies: a land-cover map is not the forest inventory nor the grassland survey.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import UsageError
from geo.grid import Grid
from geo.landcover.areas import check_landcover_raster, summarise
from geo.landcover.scan import scan
from geo.landcover.schemes import Scheme, load_scheme
from geo.landcover.weights import Weights, weighted_mean

__all__ = ["OVERRIDDEN", "LandCover", "as_landcover", "grid_of"]

#: Indicators whose values come from the fine land cover when one is given.
OVERRIDDEN = (
    "grassland_fvc_pct",
    "grassland_area",
    "cropland_area",
    "forest_cover_pct",
    "forest_area",
)


@dataclass(eq=False)
class LandCover:
    """A fine land-cover raster with its scheme, as used by a run.

    Build with :meth:`open` (checks the raster and the scheme before any work).

    Attributes
    ----------
    path : pathlib.Path
        The raster (integer class codes, any grid and CRS).
    scheme : geo.landcover.Scheme
        Class code → group.
    sha256 : str
        SHA-256 of the raster file (named in every method text and the manifest).
    """

    path: Path
    scheme: Scheme
    sha256: str
    _areas: dict = field(default_factory=dict, repr=False)
    _weights: dict = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path, scheme: str | Path | Scheme) -> LandCover:
        """Check the raster and read the scheme.

        Parameters
        ----------
        path : str or Path
            Land-cover GeoTIFF of integer class codes (8 or 16 bits).
        scheme : str, path or Scheme
            A shipped scheme name or a CSV table (:func:`geo.landcover.load_scheme`).

        Returns
        -------
        LandCover

        Raises
        ------
        geo.errors.UsageError, geo.errors.DataError, geo.errors.LayerError
            Unknown scheme, bad scheme table, not a raster, float values.
        """
        from geo.data import sha256

        scheme = load_scheme(scheme)
        path = Path(path).expanduser()
        check_landcover_raster(path)
        return cls(path, scheme, sha256(path))

    # -- values per zone set ---------------------------------------------------------

    def _coverage(self, zone_set, grid, context):
        from geo.zonal import coverage_cache

        if context is not None:
            return context.coverage(zone_set, grid)
        return coverage_cache.get(zone_set, grid, "exact", None)

    def _grid(self) -> Grid:
        return grid_of(self.path)

    @property
    def cell_km2(self) -> float:
        """Ground area of the raster's largest cell, km²: its detection limit for an area."""
        return float(self._grid().row_cell_area_m2(warn=False).max()) / 1e6

    def areas(self, zone_set, context=None) -> pd.DataFrame:
        """Group areas per zone (:func:`geo.landcover.class_areas`), computed once per zone set.

        Parameters
        ----------
        zone_set : geo.zones.ZoneSet
            The zones.
        context : geo.context.ZonalContext, optional
            The run's coverages (the fine grid's coverage is built once and cached there).

        Returns
        -------
        pandas.DataFrame
            Positional index, one row per zone (see :func:`geo.landcover.class_areas`).
        """
        if zone_set.key not in self._areas:
            self.read(zone_set, context=context)
        return self._areas[zone_set.key]

    def weights(self, zone_set, grid, group: str = "grassland", context=None) -> Weights:
        """Area of ``group`` inside each zone and each cell of ``grid`` (once per zone set).

        See :func:`geo.landcover.class_weights`.
        """
        key = (zone_set.key, grid.key(), group)
        if key not in self._weights:
            self.read(zone_set, (grid,), group, context)
        return self._weights[key]

    def read(self, zone_set, grids=(), group: str = "grassland", context=None) -> None:
        """Read the raster once for what is not yet kept: the areas, the weights on ``grids``.

        The areas and the weights of ``group`` on every grid of ``grids`` come from the same
        windows (:func:`geo.landcover.scan.scan`): one read of the raster per zone set, not
        one for the areas and one per grid.

        Parameters
        ----------
        zone_set : geo.zones.ZoneSet
            The zones.
        grids : sequence of geo.grid.Grid
            Grids of the layers to be averaged over ``group`` (e.g. the FVC layer's).
        group : str
            One of :data:`geo.landcover.GROUPS`.
        context : geo.context.ZonalContext, optional
            The run's coverages.
        """
        want = {}
        for grid in grids:
            key = (zone_set.key, grid.key(), group)
            if key not in self._weights:
                want[key] = (self.scheme.codes(group), grid)
        areas = zone_set.key not in self._areas
        if not (areas or want):
            return
        cov = self._coverage(zone_set, self._grid(), context)
        touched = bool(cov.touched.any())
        raw, weights = scan(self.path, cov, areas=areas and touched, weights=want)
        self._weights.update(weights)
        if not areas:
            return
        if not touched:  # the raster covers another region: no value, said once
            raw = pd.DataFrame(
                {"count": 0.0, "nodata_area_km2": 0.0, "outside_area_km2": cov.outside_area_km2},
                index=pd.RangeIndex(cov.n_zones),
            )
        table = summarise(raw, self.scheme, self.path).reset_index(drop=True)
        _warn_partial(table, self.path, getattr(zone_set, "level", "") or "")
        self._areas[zone_set.key] = table

    def class_mean(
        self, zone_set, raster, group: str = "grassland", context=None, nodata_values=()
    ) -> pd.DataFrame:
        """Per-zone mean of a coarse raster over the fine area of ``group``.

        Returns
        -------
        pandas.DataFrame
            ``mean`` (raster units), ``area_km2`` (km²) and ``cells`` (see
            :func:`geo.landcover.weighted_mean`), one row per zone.
        """
        weights = self.weights(zone_set, grid_of(raster), group, context)
        return weighted_mean(weights, raster, nodata_values=nodata_values)

    # -- provenance and method ----------------------------------------------------------

    def record(self) -> dict:
        """Provenance for the manifest: file, SHA-256, scheme and method."""
        return {
            "path": str(self.path.absolute()),
            "sha256": self.sha256,
            "scheme": self.scheme.record(),
            "indicators": list(OVERRIDDEN),
            "method": (
                "class areas exact on the raster's own grid (covered fraction x ground cell "
                "area), never resampled; grassland cover = FVC averaged with each FVC cell "
                "weighted by the exact grassland area inside it and inside the zone (fine cells "
                "assigned by centre)"
            ),
            "official": False,
        }

    def method(self, key: str) -> str:
        """Method text of an indicator computed from this land cover (names file and scheme)."""
        codes = self.scheme.codes
        base = (
            f"land-cover raster {self.path.name} (SHA-256 {self.sha256}), scheme {self.scheme.name}"
        )
        exact = (
            "exact class areas on the raster's own grid (covered fraction x ground cell area), "
            "not resampled; a land-cover map, not the official survey (proxy)"
        )
        texts = {
            "forest_area": f"area of forest (codes {list(codes('forest'))}) and shrub forest "
            f"(codes {list(codes('shrub_forest'))}) of the {base}: {exact}",
            "forest_cover_pct": "(forest + shrub forest) / land area (every class but fill "
            f"values, water included) of the {base}: {exact}",
            "grassland_area": f"area of grassland (codes {list(codes('grassland'))}) of the "
            f"{base}: {exact}",
            "cropland_area": f"area of cropland (codes {list(codes('cropland'))}) of the "
            f"{base}: {exact}",
            "grassland_fvc_pct": "mean FVC over the grassland of the "
            f"{base}: each FVC cell weighted by the exact ground area of the grassland classes "
            "inside it and inside the zone (fine-to-coarse fractional aggregation; fine cells "
            "assigned to the FVC cell holding their centre, exact when the grids nest)",
        }
        return texts[key]

    # -- the indicator table ------------------------------------------------------------

    def values(self, zone_set, fvc_path, context=None) -> tuple[dict, dict]:
        """Values and cell counts of the :data:`OVERRIDDEN` indicators, one per zone.

        Returns
        -------
        tuple of dict
            ``(values, cells)``: indicator → array (% or km²), and the cells each share or
            mean rests on (fine cells for forest coverage; grassland area in FVC cells for
            grassland cover).
        """
        self.read(zone_set, (grid_of(fvc_path),), context=context)  # areas, weights: one read
        areas = self.areas(zone_set, context)
        grass = self.class_mean(zone_set, fvc_path, "grassland", context)
        forest = (areas["forest_area_km2"] + areas["shrub_forest_area_km2"]).to_numpy()
        values = {
            "grassland_fvc_pct": grass["mean"].to_numpy(),
            "grassland_area": areas["grassland_area_km2"].to_numpy(),
            "cropland_area": areas["cropland_area_km2"].to_numpy(),
            "forest_cover_pct": areas["forest_cover_pct"].to_numpy(),
            "forest_area": forest,
        }
        cells = {
            "grassland_fvc_pct": grass["cells"].to_numpy(),
            "forest_cover_pct": areas["cells"].to_numpy(),
        }
        return values, cells

    def apply(self, long: pd.DataFrame, zone_set, layer_paths: dict, context=None) -> pd.DataFrame:
        """A table of :func:`geo.indicators.compute` with the land-cover values put in.

        Forest area and coverage, grassland area, cropland area (added) and grassland cover
        take the values of :meth:`values`, their method text naming the file, its SHA-256
        and the scheme; the verdict columns are recomputed for them. Forest coverage is below
        the detection limit where the forest area is less than one cell of this raster
        (:attr:`cell_km2`, about 0.001 km² at 30 m, where the shipped 0.05° map needs 25
        km²). Other rows are unchanged.

        Parameters
        ----------
        long : pandas.DataFrame
            From :func:`geo.indicators.compute` on ``zone_set``.
        zone_set : geo.zones.ZoneSet
            The zones of ``long``.
        layer_paths : dict
            The run's layer paths (``fvc`` is averaged over the grassland).
        context : geo.context.ZonalContext, optional
            The run's coverages.

        Returns
        -------
        pandas.DataFrame
        """
        from geo.indicators import INDICATORS, MIN_CELLS, PROXY_TWINS, gap, meets_target

        values, cells = self.values(zone_set, layer_paths["fvc"], context)
        faint = {"forest_cover_pct": np.asarray(values["forest_area"]) < self.cell_km2}
        ids = zone_set.frame[zone_set.id_column].astype(str).to_numpy()
        out = _with_cropland(long)
        for key in OVERRIDDEN:
            target = _proxy_rows_of(out, key)
            if target is None:
                continue
            rows = np.flatnonzero((out["indicator"] == target).to_numpy())
            if not np.array_equal(out["id"].iloc[rows].astype(str).to_numpy(), ids):
                raise RuntimeError(f"indicator table rows of {key} are not the zones of the set")
            ind = INDICATORS.get(target) or PROXY_TWINS[target]
            vals = np.asarray(values[key], dtype="float64")
            few = np.zeros(len(vals), dtype=bool)
            if key in cells:
                based = np.asarray(cells[key], dtype="float64")
                few = based < MIN_CELLS
                out.iloc[rows, out.columns.get_loc("cells")] = based
            below = faint.get(key, np.zeros(len(vals), dtype=bool))
            judged = [
                None if f or b else meets_target(v, ind)
                for v, f, b in zip(vals, few, below, strict=True)
            ]
            col = out.columns.get_loc
            out.iloc[rows, col("value")] = vals
            out.iloc[rows, col("few_cells")] = few
            out.iloc[rows, col("below_detection")] = below
            out.iloc[rows, col("meets_target")] = pd.Series(judged, dtype=object).to_numpy()
            out.iloc[rows, col("gap")] = [gap(v, ind) for v in vals]
            out.iloc[rows, col("official")] = False
            out.iloc[rows, col("method")] = self.method(key)
        out.attrs = dict(long.attrs)
        return out


def grid_of(raster: str | Path) -> Grid:
    """The grid of a raster file (its metadata only)."""
    import rasterio

    with rasterio.open(raster) as ds:
        return Grid.from_dataset(ds)


def _proxy_rows_of(long: pd.DataFrame, key: str) -> str | None:
    """The indicator id whose rows hold the proxy of ``key`` (``None``: none kept).

    ``key`` itself, or the proxy kept beside an official value: an official layer outranks
    any land-cover map, which then improves the proxy shown beside it.
    """
    from geo.indicators import proxy_id

    if "basis" not in long.columns:
        return key
    basis = long.loc[long["indicator"] == key, "basis"]
    if (basis == "proxy").all():
        return key
    twin = proxy_id(key)
    return twin if (long["indicator"] == twin).any() else None


def _warn_partial(table: pd.DataFrame, path: Path, level: str) -> None:
    """Say when zones reach beyond the land-cover raster: their values cover part of them."""
    import warnings

    from geo.errors import GeoWarning

    outside = table["outside_area_km2"].to_numpy() + table["nodata_area_km2"].to_numpy()
    land = np.nan_to_num(table["land_area_km2"].to_numpy())
    partial = outside > 1e-9 * np.maximum(outside + land, 1.0)
    if partial.any():
        none = int((partial & (land == 0)).sum())
        warnings.warn(
            f"{int(partial.sum())} zone(s) of {level or 'the zone set'} reach beyond land-cover "
            f"raster {path} or over its nodata: {none} wholly (no land-cover value), "
            f"{int(partial.sum()) - none} partly (their land-cover values describe the covered "
            "part only); give a raster covering the zones for complete values",
            GeoWarning,
            stacklevel=4,
        )


def _with_cropland(long: pd.DataFrame) -> pd.DataFrame:
    """``long`` with ``cropland_area`` rows (copies of the grassland-area rows) after them."""
    from geo.indicators import INDICATORS

    long = long.copy()
    long["meets_target"] = long["meets_target"].astype(object)
    if (long["indicator"] == "cropland_area").any():
        return long
    grass = np.flatnonzero((long["indicator"] == "grassland_area").to_numpy())
    crop = long.iloc[grass].copy()
    ind = INDICATORS["cropland_area"]
    crop["indicator"] = ind.id
    crop["unit"] = ind.unit
    crop["method"] = ind.method
    at = int(grass[-1]) + 1
    return pd.concat([long.iloc[:at], crop, long.iloc[at:]], ignore_index=True)


def as_landcover(landcover, scheme) -> LandCover | None:
    """The run's :class:`LandCover` from ``compute_all``'s arguments (None without one).

    Parameters
    ----------
    landcover : str, path, LandCover or None
        The raster (``--landcover``), or an opened :class:`LandCover`.
    scheme : str, path, Scheme or None
        Its scheme (``--landcover-scheme``); needed with a raster path.

    Raises
    ------
    geo.errors.UsageError
        A scheme without a raster, or a raster without a scheme.
    """
    if isinstance(landcover, LandCover):
        return landcover
    if landcover is not None and str(landcover).strip() == "":
        raise UsageError("--landcover needs a file name (the land-cover GeoTIFF), not ''")
    if landcover is None:
        if scheme is not None:
            raise UsageError("--landcover-scheme needs --landcover FILE (the land-cover raster)")
        return None
    if scheme is None or str(scheme).strip() == "":
        raise UsageError(
            f"--landcover {landcover} needs --landcover-scheme: clcd, worldcover, glc_fcs30, "
            "igbp or a CSV table (code,name,group)"
        )
    return LandCover.open(landcover, scheme)
