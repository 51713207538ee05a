"""Derived layers: vegetation cover (FVC), land-cover masks, sandified land, red-line proxy.

All derived layers are computed on one *analysis grid* — by default the 0.05° MODIS CMG grid
of the land-cover and NDVI-climatology layers — because they combine several inputs cell by
cell. Inputs on another grid are brought onto it once (nearest neighbour for classes,
average for continuous values); zonal statistics then run on the derived rasters without any
further resampling. Every derived layer records its method and parameters.

FVC (fractional vegetation cover) follows the dimidiate pixel model::

    FVC = (NDVI − NDVI_soil) / (NDVI_veg − NDVI_soil), clipped to [0, 1]

with NDVI_soil / NDVI_veg either the 5th / 95th percentiles of NDVI over the region
(``fvc_method="percentile"``, default) or, per cell, the NDVI minimum / maximum climatology
(``fvc_method="pixel"``). The default NDVI is the climatological *maximum* (growing-season
peak), as the plan's grassland coverage indicator refers to the peak.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.warp import reproject

from geo.errors import DataError, LayerError
from geo.grid import Grid
from geo.layers import Layer, catalogue
from geo.outputs import atomic_path

__all__ = [
    "DERIVED_NAMES",
    "SANDIFIED_CLASSES",
    "DeriveConfig",
    "Derived",
    "apply_corrections",
    "derive_all",
    "derived_layers",
    "fvc_from_ndvi",
    "read_on_grid",
    "sandified_degree",
]

#: Codes of the sandified-degree layer (0 = not sandified). Names as in GB/T 24255-2009.
SANDIFIED_CLASSES = {
    0: ("not sandified", "非沙化"),
    1: ("light", "轻度"),
    2: ("moderate", "中度"),
    3: ("severe", "重度"),
    4: ("extreme", "极重度"),
}
_NODATA_U8 = 255
_NODATA_F32 = -9999.0


@dataclass(frozen=True)
class DeriveConfig:
    """Parameters of the derived layers (all documented in the report's method notes).

    Attributes
    ----------
    ndvi : str
        Catalogue layer used as NDVI for FVC (``ndvi_max``: climatological maximum, the
        growing-season peak; ``ndvi``: Copernicus long-term mean of late June), or the path
        of the user's own NDVI GeoTIFF (any grid and CRS: averaged onto the analysis grid).
    ndvi_scale, ndvi_offset : float, optional
        NDVI = stored × scale + offset for a user file stored as scaled integers (e.g. 0.0001
        for MODIS); default: the file's own scale/offset tags.
    fvc_method : {"percentile", "pixel"}
        Where NDVI_soil and NDVI_veg come from (see module docstring).
    soil_pct, veg_pct : float
        Percentiles (0–100) of NDVI over the region for NDVI_soil / NDVI_veg.
    grassland_classes : tuple of int
        IGBP classes counted as grassland (草原) for the grassland coverage indicator.
    forest_classes : tuple of int
        IGBP classes counted as forest land by China's definition (canopy closure ≥ 0.2):
        the IGBP forests 1–5 and woody savanna 8 (30–60 % tree cover).
    shrub_forest_classes : tuple of int
        IGBP classes counted as nationally specified shrub forest (国家特别规定灌木林地):
        closed shrubland 6.
    igbp_forest_classes : tuple of int
        IGBP's own forest classes, reported beside for comparison.
    dryland_classes : tuple of int
        Köppen–Geiger main groups treated as drylands where sandification is assessed (B, arid).
    sandified_candidate_classes : tuple of int
        IGBP classes that can be sandified land: open shrubland 7, savanna 9, grassland 10,
        cropland 12, cropland/natural mosaic 14, barren 16.
    sandified_fvc_pct : tuple of float
        FVC thresholds (%) separating light / moderate / severe / extreme sandification,
        GB/T 24255-2009: ≥ 40 light, 25–40 moderate, 10–25 severe, < 10 extreme.
    sandified_max_fvc_pct : float
        Candidates at or above this FVC (%) are not counted as sandified: without a field
        layer of sandy surface, dense vegetation cannot be recognised as sandified land.
    redline_share_pct : float
        Region-wide share (%) the red-line proxy is calibrated to (official: 50.46 %).
    """

    ndvi: str = "ndvi_max"
    ndvi_scale: float | None = None
    ndvi_offset: float | None = None
    fvc_method: str = "percentile"
    soil_pct: float = 5.0
    veg_pct: float = 95.0
    grassland_classes: tuple[int, ...] = (10,)
    forest_classes: tuple[int, ...] = (1, 2, 3, 4, 5, 8)
    shrub_forest_classes: tuple[int, ...] = (6,)
    igbp_forest_classes: tuple[int, ...] = (1, 2, 3, 4, 5)
    dryland_classes: tuple[int, ...] = (2,)
    sandified_candidate_classes: tuple[int, ...] = (7, 9, 10, 12, 14, 16)
    sandified_fvc_pct: tuple[float, float, float] = (40.0, 25.0, 10.0)
    sandified_max_fvc_pct: float = 60.0
    redline_share_pct: float = 50.46

    def __post_init__(self) -> None:
        # NaN or ±inf (argparse's float() accepts "nan", "inf") would pass every later check
        # (comparisons with NaN are false) and give an all-undefined or silently wrong FVC.
        from geo.errors import UsageError

        for option, value in (
            ("--ndvi-scale", self.ndvi_scale),
            ("--ndvi-offset", self.ndvi_offset),
        ):
            if value is not None and not np.isfinite(value):
                raise UsageError(f"{option} {value} is not a finite number; e.g. {option} 0.0001")
        if not Path(self.ndvi).suffix and (
            self.ndvi_scale is not None or self.ndvi_offset is not None
        ):
            raise UsageError(
                f"--ndvi-scale/--ndvi-offset apply to your own NDVI file (--ndvi FILE); the "
                f"shipped layer {self.ndvi!r} has its own scale: drop them or give --ndvi"
            )
        if self.ndvi_scale == 0:
            raise UsageError("--ndvi-scale 0 would make every NDVI equal; e.g. --ndvi-scale 0.0001")
        if not 0 <= self.soil_pct < self.veg_pct <= 100:
            raise UsageError(
                f"NDVI percentiles soil {self.soil_pct} / veg {self.veg_pct} must satisfy "
                "0 <= soil < veg <= 100"
            )

    def key(self) -> str:
        """Digest of the parameters (part of the derived-layer cache key)."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Derived:
    """One derived raster on the analysis grid.

    Attributes
    ----------
    name : str
    array : numpy.ndarray
        Values (``nodata`` where undefined).
    grid : Grid
    nodata : float
    kind : {"continuous", "categorical"}
    unit : str
    method : str
        How it was made, in words, with parameters.
    classes : dict
        Class code → label for categorical layers.
    """

    name: str
    array: np.ndarray
    grid: Grid
    nodata: float
    kind: str
    unit: str
    method: str
    classes: dict[int, str] = field(default_factory=dict)

    @property
    def categorical(self) -> bool:
        return self.kind == "categorical"

    def write(self, path: str | Path) -> Path:
        """Write as a tiled, deflate-compressed GeoTIFF, atomically."""
        path = Path(path)
        profile = {
            "driver": "GTiff",
            "height": self.grid.height,
            "width": self.grid.width,
            "count": 1,
            "dtype": self.array.dtype.name,
            "crs": self.grid.crs,
            "transform": self.grid.transform,
            "nodata": self.nodata,
            "compress": "deflate",
            "tiled": True,
            "blockxsize": 256,
            "blockysize": 256,
        }
        with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.write(self.array, 1)
            dst.update_tags(method=self.method, unit=self.unit, layer=self.name)
        return path


def read_on_grid(layer: Layer, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Read a layer's physical values onto ``grid``.

    Classes are taken by nearest neighbour, continuous values by cell average when the
    layer's grid differs. Returns ``(values, valid)``; values are float64 for continuous
    layers (scale and offset applied) and the stored integers for categorical ones; flagged
    codes (e.g. water in the NDVI layer) are invalid.
    """
    try:
        with rasterio.open(layer.path) as src:
            nodata = src.nodata
            same = Grid.from_dataset(src).same_as(grid)
            if same:
                raw = src.read(1)
            else:
                raw = np.full(grid.shape, nodata if nodata is not None else 0, dtype=src.dtypes[0])
                reproject(
                    rasterio.band(src, 1),
                    raw,
                    dst_transform=grid.transform,
                    dst_crs=grid.crs,
                    dst_nodata=nodata,
                    resampling=Resampling.nearest if layer.categorical else Resampling.average,
                )
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(f"layer {layer.name!r}: cannot read {layer.path}: {exc}") from None
    from geo.zonal import _invalid_mask, nodata_codes

    # nodata and flags compared in the raster's own type (-9999.1 on float32 …), NaN/inf invalid
    codes = nodata_codes(raw.dtype, nodata, tuple(layer.flags), str(layer.path))
    valid = ~_invalid_mask(raw, codes)
    if layer.categorical:
        return raw, valid
    return raw.astype("float64") * layer.scale + layer.offset, valid


def fvc_from_ndvi(ndvi: np.ndarray, ndvi_soil, ndvi_veg) -> np.ndarray:
    """Dimidiate-pixel FVC (0–1) from NDVI.

    Parameters
    ----------
    ndvi : numpy.ndarray
        NDVI (−1…1); NaN where undefined.
    ndvi_soil, ndvi_veg : float or numpy.ndarray
        NDVI of bare soil and of full vegetation cover (scalars or per cell).

    Returns
    -------
    numpy.ndarray
        FVC clipped to [0, 1]; NaN where NDVI is NaN or ``ndvi_veg <= ndvi_soil``.
    """
    ndvi = np.asarray(ndvi, dtype="float64")
    span = np.asarray(ndvi_veg, dtype="float64") - np.asarray(ndvi_soil, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        fvc = (ndvi - ndvi_soil) / span
    fvc = np.clip(fvc, 0.0, 1.0)
    return np.where(span > 0, fvc, np.nan)


def check_ndvi(values: np.ndarray, valid: np.ndarray, layer: Layer) -> None:
    """Refuse NDVI outside [−1, 1] (e.g. scaled integers without scale metadata)."""
    if not valid.any():
        raise DataError(f"NDVI layer {layer.name!r} ({layer.path}) has no valid cell")
    lo, hi = float(values[valid].min()), float(values[valid].max())
    if lo < -1.0001 or hi > 1.0001:
        shipped = layer.name in catalogue()
        where = (
            "in data/rasters/layers.toml"
            if shipped
            else "with --ndvi-scale/--ndvi-offset (Python: DeriveConfig(ndvi_scale=…, "
            "ndvi_offset=…))"
        )
        raise DataError(
            f"NDVI layer {layer.name!r} ({layer.path}) has values {lo:g}…{hi:g}, outside [-1, 1]: "
            "it looks like scaled integers; give its scale and offset (e.g. 0.0001 for MODIS "
            f"NDVI, 0.004/-0.08 for Copernicus) {where}, or rescale the file"
        )


def sandified_degree(
    fvc_pct: np.ndarray,
    landcover: np.ndarray,
    climate: np.ndarray,
    valid: np.ndarray,
    config: DeriveConfig,
) -> np.ndarray:
    """Sandified-land degree codes (see :data:`SANDIFIED_CLASSES`), 255 where undefined.

    A cell is sandified land when it lies in a dryland climate class, its land cover is a
    candidate class and its FVC is below ``sandified_max_fvc_pct``; the degree follows the
    FVC thresholds of GB/T 24255-2009 (a cell exactly on a threshold takes the lighter
    degree: FVC = 40 % is light, 25 % moderate, 10 % severe).
    """
    light, moderate, severe = config.sandified_fvc_pct
    candidate = (
        np.isin(climate, config.dryland_classes)
        & np.isin(landcover, config.sandified_candidate_classes)
        & (fvc_pct < config.sandified_max_fvc_pct)
    )
    degree = np.select(
        [fvc_pct >= light, fvc_pct >= moderate, fvc_pct >= severe], [1, 2, 3], default=4
    ).astype("uint8")
    out = np.where(candidate, degree, 0).astype("uint8")
    return np.where(valid, out, _NODATA_U8).astype("uint8")


def _region_mask(grid: Grid, region) -> np.ndarray:
    geoms = region.to_crs(grid.crs).geometry.values
    return rasterize(
        [(g, 1) for g in geoms], out_shape=grid.shape, transform=grid.transform, dtype="uint8"
    ).astype(bool)


def _percentiles(values: np.ndarray, mask: np.ndarray, config: DeriveConfig) -> tuple[float, float]:
    sample = values[mask]
    if sample.size == 0:
        raise DataError("no valid NDVI cell inside the region; check the NDVI layer's extent")
    soil, veg = np.percentile(sample, [config.soil_pct, config.veg_pct])
    if veg <= soil:
        raise LayerError(
            f"NDVI percentiles {config.soil_pct}/{config.veg_pct} give NDVI_veg {veg:.3f} <= "
            f"NDVI_soil {soil:.3f}; choose percentiles further apart"
        )
    return float(soil), float(veg)


def _fvc(grid: Grid, region_mask: np.ndarray, config: DeriveConfig) -> tuple[np.ndarray, str]:
    layers = catalogue()
    source = _ndvi_layer(config, layers)
    ndvi, ok = read_on_grid(source, grid)
    check_ndvi(ndvi, ok, source)
    ndvi = np.where(ok, ndvi, np.nan)
    if config.fvc_method == "percentile":
        soil, veg = _percentiles(ndvi, ok & region_mask, config)
        method = (
            f"FVC = (NDVI - {soil:.4f}) / ({veg:.4f} - {soil:.4f}) clipped to [0, 1]; NDVI = layer "
            f"{config.ndvi}; NDVI_soil/NDVI_veg = {config.soil_pct:g}th/{config.veg_pct:g}th "
            "percentiles of NDVI over the region (dimidiate pixel model)"
        )
        return fvc_from_ndvi(ndvi, soil, veg) * 100.0, method
    if config.fvc_method == "pixel":
        if config.ndvi in ("ndvi_max", "ndvi_min"):
            raise LayerError(
                f"per-pixel FVC scales NDVI between the per-pixel minimum and maximum "
                f"climatology; with NDVI = {config.ndvi} it is 0 or 100 % everywhere: choose an "
                "observed NDVI (e.g. ndvi, or your own file)"
            )
        lo, ok_lo = read_on_grid(layers["ndvi_min"], grid)
        hi, ok_hi = read_on_grid(layers["ndvi_max"], grid)
        lo, hi = np.where(ok_lo, lo, np.nan), np.where(ok_hi, hi, np.nan)
        method = (
            f"FVC = (NDVI - NDVI_min) / (NDVI_max - NDVI_min) per cell, clipped to [0, 1]; NDVI = "
            f"layer {config.ndvi}; NDVI_min/NDVI_max = BESS climatology per cell (undefined where "
            "max <= min)"
        )
        return fvc_from_ndvi(ndvi, lo, hi) * 100.0, method
    raise LayerError(f"unknown FVC method {config.fvc_method!r}; use 'percentile' or 'pixel'")


def _redline_proxy(
    fvc_pct: np.ndarray,
    lc: np.ndarray,
    dry: np.ndarray,
    valid: np.ndarray,
    grid: Grid,
    region_mask: np.ndarray,
    config: DeriveConfig,
) -> tuple[np.ndarray, str]:
    # Ecological importance in the spirit of the national red-line guide: forests, wetlands
    # and water (importance 1), dense vegetation (water conservation, biodiversity: FVC) and
    # sand-prone drylands (windbreak and sand fixation, desertification sensitivity: 1 - FVC).
    f = np.nan_to_num(fvc_pct / 100.0, nan=0.0)
    score = np.where(np.isin(lc, (*config.forest_classes, 0, 11)), 1.0, f)
    score = np.maximum(score, np.where(dry, 1.0 - f, 0.0))
    inside = valid & region_mask
    area = np.broadcast_to(grid.row_cell_area_m2()[:, None], grid.shape)
    order = np.argsort(-score[inside], kind="stable")
    cum = np.cumsum(area[inside][order])
    k = int(np.searchsorted(cum, cum[-1] * config.redline_share_pct / 100.0))
    threshold = float(score[inside][order][min(k, order.size - 1)])
    proxy = np.where(valid, (score >= threshold).astype("uint8"), _NODATA_U8).astype("uint8")
    method = (
        "red-line PROXY, not the official red line: ecological-importance score = 1 for forest "
        "(IGBP 1-5, 8), wetland and water, else FVC; in drylands at least 1 - FVC (sand-fixation "
        f"importance); cells with score >= {threshold:.4f} selected so that the region-wide share "
        f"equals the official {config.redline_share_pct} %"
    )
    return proxy, method


def derive_all(region, config: DeriveConfig | None = None) -> dict[str, Derived]:
    """Compute every derived layer on the land-cover grid.

    Parameters
    ----------
    region : geopandas.GeoDataFrame
        The region (province polygon) over which percentiles and the red-line calibration
        are computed.
    config : DeriveConfig, optional

    Returns
    -------
    dict of str to Derived
        ``fvc`` (%, 0–100), ``fvc_grassland`` (%, grassland cells only), ``landcover_cn``
        (1 forest by China's definition, 2 shrub forest, 3 grassland, 4 other land, 5 water),
        ``sandified`` (degree codes), ``redline_proxy`` (1 inside, 0 outside).
    """
    config = config or DeriveConfig()
    layers = catalogue()
    lc_layer = layers["landcover"]
    with rasterio.open(lc_layer.path) as src:
        grid = Grid.from_dataset(src)
    lc, lc_ok = read_on_grid(lc_layer, grid)
    unknown = sorted(set(np.unique(lc[lc_ok]).tolist()) - set(lc_layer.classes))
    if unknown:
        raise DataError(f"land-cover layer {lc_layer.path} has unknown class codes {unknown}")
    climate, cl_ok = read_on_grid(layers["climate"], grid)
    region_mask = _region_mask(grid, region)
    fvc_pct, fvc_method = _fvc(grid, region_mask, config)
    ok = lc_ok & np.isfinite(fvc_pct)
    dry = cl_ok & np.isin(climate, config.dryland_classes)
    f32 = lambda a, m: np.where(m, a, _NODATA_F32).astype("float32")  # noqa: E731
    grass = ok & np.isin(lc, config.grassland_classes)
    cn = np.select(
        [
            np.isin(lc, config.forest_classes),
            np.isin(lc, config.shrub_forest_classes),
            np.isin(lc, config.grassland_classes),
            lc == 0,
        ],
        [1, 2, 3, 5],
        default=4,
    ).astype("uint8")
    sand = sandified_degree(fvc_pct, lc, np.where(cl_ok, climate, 0), ok & cl_ok, config)
    redline, red_method = _redline_proxy(fvc_pct, lc, dry, ok, grid, region_mask, config)
    return {
        "fvc": Derived("fvc", f32(fvc_pct, ok), grid, _NODATA_F32, "continuous", "%", fvc_method),
        "fvc_grassland": Derived(
            "fvc_grassland",
            f32(fvc_pct, grass),
            grid,
            _NODATA_F32,
            "continuous",
            "%",
            f"{fvc_method}; grassland cells only (IGBP {list(config.grassland_classes)})",
        ),
        "landcover_cn": Derived(
            "landcover_cn",
            np.where(lc_ok, cn, _NODATA_U8).astype("uint8"),
            grid,
            _NODATA_U8,
            "categorical",
            "class",
            f"MODIS IGBP 2019 regrouped: forest = IGBP {list(config.forest_classes)} (China's "
            f"definition, canopy closure >= 0.2), shrub forest = IGBP "
            f"{list(config.shrub_forest_classes)}, grassland = IGBP "
            f"{list(config.grassland_classes)}",
            {1: "forest", 2: "shrub forest", 3: "grassland", 4: "other land", 5: "water"},
        ),
        "sandified": Derived(
            "sandified",
            sand,
            grid,
            _NODATA_U8,
            "categorical",
            "degree",
            "sandified-land PROXY: Koppen-Geiger groups "
            f"{list(config.dryland_classes)} x IGBP {list(config.sandified_candidate_classes)} x "
            f"FVC < {config.sandified_max_fvc_pct:g} %; degrees by FVC thresholds "
            f"{list(config.sandified_fvc_pct)} % (GB/T 24255-2009)",
            {k: v[0] for k, v in SANDIFIED_CLASSES.items()},
        ),
        "redline_proxy": Derived(
            "redline_proxy",
            redline,
            grid,
            _NODATA_U8,
            "categorical",
            "class",
            red_method,
            {0: "outside", 1: "inside"},
        ),
    }


#: Names of the derived layers, for the catalogue and ``barrier stats --layer``.
DERIVED_NAMES = ("fvc", "fvc_grassland", "landcover_cn", "sandified", "redline_proxy")


def _ndvi_layer(config: DeriveConfig, layers: dict[str, Layer]) -> Layer:
    if config.ndvi in layers:
        return layers[config.ndvi]
    if not Path(config.ndvi).suffix:
        raise LayerError(
            f"no NDVI layer named {config.ndvi!r}; shipped layers: {', '.join(layers)}, "
            "or give the path of an NDVI GeoTIFF"
        )
    layer = Layer.from_file(config.ndvi)
    with rasterio.open(layer.path) as src:
        scale = config.ndvi_scale if config.ndvi_scale is not None else src.scales[0]
        offset = config.ndvi_offset if config.ndvi_offset is not None else src.offsets[0]
    return replace(layer, name="ndvi (user)", scale=scale, offset=offset)


def _inputs_key(config: DeriveConfig) -> str:
    from geo import __version__
    from geo.data import data_path, sha256

    digest = hashlib.sha256(f"{__version__}|{config.key()}".encode())
    if Path(config.ndvi).is_file():
        digest.update(sha256(config.ndvi).encode())
    for layer in catalogue().values():
        digest.update(sha256(layer.path).encode())
    digest.update(sha256(data_path("boundaries", "im_admin_wgs84.gpkg")).encode())
    return digest.hexdigest()[:20]


def derived_layers(
    config: DeriveConfig | None = None, *, cache: str | Path | None = None, force: bool = False
) -> dict[str, Layer]:
    """Derived layers of the shipped data as GeoTIFFs in the cache, computed once.

    Parameters
    ----------
    config : DeriveConfig, optional
    cache : path, optional
        Cache folder (default :func:`geo.data.cache_dir`). The files live in a sub-folder
        keyed by the package version, the configuration and the SHA-256 of every input, so a
        changed input or parameter never reuses stale layers. ``layers.json`` there records
        the SHA-256 of each GeoTIFF; a cache entry that fails the check (truncated or edited
        file, unreadable JSON) is discarded and rebuilt with a :class:`GeoWarning`.
    force : bool
        Recompute even if cached.

    Returns
    -------
    dict of str to Layer
        Keyed by :data:`DERIVED_NAMES`; each layer's ``source`` holds its method.

    Raises
    ------
    geo.errors.OutputError
        The cache folder cannot be written (the message names the cache, not the output).
    """
    from geo import boundaries
    from geo.data import cache_dir

    config = config or DeriveConfig()
    folder = Path(cache or cache_dir()) / "derived" / _inputs_key(config)
    files = [folder / f"{name}.tif" for name in DERIVED_NAMES]
    meta = None if force else _cached_meta(folder, _META, files, "derived-layer")
    if meta is None:
        derived = derive_all(boundaries.load("province"), config)

        def write() -> None:
            for name, item in derived.items():
                item.write(folder / f"{name}.tif")

        extra = {
            name: {
                "kind": item.kind,
                "unit": item.unit,
                "method": item.method,
                "classes": {str(k): v for k, v in item.classes.items()},
            }
            for name, item in derived.items()
        }
        extra["config"] = asdict(config)
        meta = _write_cache(folder, write, files, extra)
    return {
        name: Layer(
            name=name,
            path=folder / f"{name}.tif",
            kind=meta[name]["kind"],
            unit=meta[name]["unit"],
            title_en=name,
            title_zh=name,
            source=f"derived: {meta[name]['method']}",
            licence="derived from the shipped layers (see their licences)",
            classes={int(k): v for k, v in meta[name]["classes"].items()},
        )
        for name in DERIVED_NAMES
    }


# ---- the cache of derived and corrected layers -------------------------------------------

_META = "layers.json"


def _cached_meta(folder: Path, meta_name: str, files: list[Path], what: str) -> dict | None:
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
        if meta_name == _META and not all(
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


def _write_cache(folder: Path, write, files: list[Path], extra: dict, meta_name: str = _META):
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


#: Classes of the derived class layers (code → label); also checked in user corrections.
DERIVED_CLASSES = {
    "landcover_cn": {1: "forest", 2: "shrub forest", 3: "grassland", 4: "other land", 5: "water"},
    "sandified": {k: v[0] for k, v in SANDIFIED_CLASSES.items()},
    "redline_proxy": {0: "outside", 1: "inside"},
}
#: Range of the derived value layers (both FVC, in %).
DERIVED_RANGES = {"fvc": (0.0, 100.0), "fvc_grassland": (0.0, 100.0)}


_SUMS = "checksums.json"


def _feature(index, position: int) -> str:
    """``feature <n>`` (1-based, as GIS software numbers them) of a row of a vector file."""
    n = int(index) + 1 if isinstance(index, int | np.integer) else position + 1
    return f"feature {n}"


def check_corrections(corrections, layers: dict[str, Layer] | None = None):
    """Validate user corrections before anything is derived, corrected or written.

    Every feature needs a ``layer`` naming a derived layer and a ``value`` that the layer can
    hold: one of its declared class codes for class layers (an integer; ``2.5`` or ``300`` on
    an 8-bit layer would silently become another class), a finite number within the layer's
    range for value layers; never null, never text, never the layer's nodata value. Field
    names are matched case-insensitively (shapefiles often store ``LAYER``/``VALUE``).

    Parameters
    ----------
    corrections : geopandas.GeoDataFrame
        From :func:`geo.vectors.read_polygons` (``attrs["source"]`` names the file).
    layers : dict of str to Layer, optional
        The derived layers in use (their declared classes and the files' types are checked);
        default: the classes and ranges of :data:`DERIVED_CLASSES` and :data:`DERIVED_RANGES`.

    Returns
    -------
    geopandas.GeoDataFrame
        The corrections with fields ``layer`` (str) and ``value`` (float).

    Raises
    ------
    geo.errors.ZoneError
        Missing fields, unknown layer names.
    geo.errors.DataError
        A value the layer cannot hold; the message names the file, the feature and the fix.
    """
    from geo.errors import ZoneError

    source = corrections.attrs.get("source") or "corrections"
    lower = {str(c).lower(): c for c in corrections.columns if c != corrections.geometry.name}
    missing = [f for f in ("layer", "value") if f not in lower]
    if missing:
        raise ZoneError(
            f"{source} lacks the field(s) {missing} (it has {sorted(lower.values())}); give each "
            "polygon the derived layer name ('layer', e.g. sandified) and the value to impose "
            "('value', e.g. 0)"
        )
    out = corrections.rename(columns={lower["layer"]: "layer", lower["value"]: "value"})
    specs = _correction_specs(layers)
    values = []
    for pos, (idx, name, value) in enumerate(
        zip(out.index, out["layer"], out["value"], strict=True)
    ):
        where = f"{source}, {_feature(idx, pos)}"
        if name is None or (isinstance(name, float) and np.isnan(name)) or not str(name).strip():
            raise ZoneError(f"{where}: the 'layer' field is empty; use one of {sorted(specs)}")
        name = str(name).strip()
        if name not in specs:
            raise ZoneError(f"{where}: {name!r} is not a derived layer; use one of {sorted(specs)}")
        values.append(_check_value(where, name, value, specs[name]))
    out["layer"] = out["layer"].astype(str).str.strip()
    out["value"] = np.asarray(values, dtype="float64")
    return out


def _correction_specs(layers: dict[str, Layer] | None) -> dict[str, dict]:
    """Per derived layer: its classes (or value range), dtype and nodata, for the checks."""
    if layers is None:
        specs = {name: {"classes": c} for name, c in DERIVED_CLASSES.items()}
        specs.update({name: {"range": r} for name, r in DERIVED_RANGES.items()})
        return specs
    specs = {}
    for name, layer in layers.items():
        spec: dict = {}
        if layer.categorical:
            spec["classes"] = layer.classes or DERIVED_CLASSES.get(name, {})
        elif name in DERIVED_RANGES:
            spec["range"] = DERIVED_RANGES[name]
        try:
            with rasterio.open(layer.path) as src:
                spec["dtype"], spec["nodata"] = np.dtype(src.dtypes[0]), src.nodata
        except rasterio.errors.RasterioIOError:
            pass  # an unreadable layer file is reported where it is read
        specs[name] = spec
    return specs


def _check_value(where: str, name: str, value, spec: dict) -> float:
    """One correction value as float, or a DataError saying what the layer accepts."""
    classes = spec.get("classes")
    accepts = (
        f"one of its classes {_fmt_classes(classes)}"
        if classes
        else "a number" + (" from {:g} to {:g}".format(*spec["range"]) if "range" in spec else "")
    )
    fix = f"layer {name!r} takes {accepts}"
    if value is None:
        raise DataError(f"{where}: the 'value' field is empty; {fix}")
    if isinstance(value, bool | np.bool_):  # True would silently become class 1
        raise DataError(f"{where}: value {value!r} is a yes/no field, not a number; {fix}")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: value {value!r} is not a number; {fix}") from None
    if not np.isfinite(number):
        raise DataError(f"{where}: value {value!r} is empty or not finite; {fix}")
    dtype, nodata = spec.get("dtype"), spec.get("nodata")
    if classes or (dtype is not None and dtype.kind in "ui"):
        if not number.is_integer():
            raise DataError(f"{where}: value {value!r} is not a whole class code; {fix}")
        if dtype is not None and dtype.kind in "ui":
            info = np.iinfo(dtype)
            if not info.min <= number <= info.max:
                raise DataError(
                    f"{where}: value {value!r} does not fit the layer's {dtype} cells "
                    f"({info.min}…{info.max}); {fix}"
                )
    if classes and int(number) not in classes:
        raise DataError(f"{where}: value {value!r} is not a class of {name!r}; {fix}")
    if "range" in spec and not spec["range"][0] <= number <= spec["range"][1]:
        raise DataError(f"{where}: value {value!r} is out of range; {fix}")
    if nodata is not None and number == nodata:
        raise DataError(f"{where}: value {value!r} is the layer's nodata value; {fix}")
    return number


def _fmt_classes(classes: dict) -> str:
    return ", ".join(f"{k} ({v})" for k, v in sorted(classes.items()))


def apply_corrections(
    layers: dict[str, Layer],
    corrections,
    *,
    cache: str | Path | None = None,
    force: bool = False,
    warn_idle: bool = True,
) -> dict[str, Layer]:
    """Override derived classes or values where the user knows better (field survey).

    Parameters
    ----------
    layers : dict of str to Layer
        From :func:`derived_layers`.
    corrections : geopandas.GeoDataFrame
        Polygons with a ``layer`` field (a derived layer name, e.g. ``sandified``) and a
        ``value`` field (the class code or value to impose, e.g. 0 = not sandified); an
        optional ``note`` says why. Cells whose centre lies inside a polygon take the value.
        Checked with :func:`check_corrections` first.
    cache : path, optional
        Cache folder (default :func:`geo.data.cache_dir`).
    force : bool
        Rewrite the corrected copies even if cached.
    warn_idle : bool
        Warn about polygons that change no cell (off for repeated runs on other configurations).

    Returns
    -------
    dict of str to Layer
        The layers, with corrected copies (in the cache, keyed by the inputs and the
        corrections) replacing the affected ones; their ``source`` records the correction.
    """
    from geo.data import cache_dir

    corrections = check_corrections(corrections, layers)
    digest = hashlib.sha256(corrections.to_json(sort_keys=True).encode())
    out = dict(layers)
    root = Path(cache or cache_dir()) / "corrected"
    for name, group in corrections.groupby(corrections["layer"]):
        layer = layers[name]
        key = hashlib.sha256((digest.hexdigest() + str(layer.path)).encode()).hexdigest()[:20]
        folder = root / key
        path = folder / f"{name}.tif"
        meta = None if force else _cached_meta(folder, _SUMS, [path], "corrected-layer")
        if meta is None:
            _write_cache(folder, partial(_write_corrected, layer, group, path), [path], {}, _SUMS)
        if warn_idle:
            _warn_idle(layer, group)
        note = (
            f"; corrected by {len(group)} user polygon(s) ({corrections.attrs.get('source', '')})"
        )
        out[name] = replace(layer, path=path, source=layer.source + note)
    return out


def _write_corrected(layer: Layer, polygons, path: Path) -> None:
    with rasterio.open(layer.path) as src:
        data, profile = src.read(1), src.profile
        shapes = [
            (geom, float(value))
            for geom, value in zip(
                polygons.to_crs(src.crs).geometry, polygons["value"], strict=True
            )
        ]
        burnt = rasterize(
            shapes, out_shape=src.shape, transform=src.transform, fill=np.nan, dtype="float64"
        )
    hit = ~np.isnan(burnt)
    data = np.where(hit, burnt, data).astype(data.dtype)
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(corrections=f"{int(hit.sum())} cells overridden by user polygons")


def _warn_idle(layer: Layer, polygons) -> None:
    """Say which correction polygons change no cell of ``layer`` (every run, cached or not)."""
    import warnings

    from geo.errors import GeoWarning

    with rasterio.open(layer.path) as src:
        geoms = list(polygons.to_crs(src.crs).geometry)
        # which polygon sets each cell centre (later ones win, as when burning values)
        owner = rasterize(
            [(g, k) for k, g in enumerate(geoms)],
            out_shape=src.shape,
            transform=src.transform,
            fill=-1,
            dtype="int32",
        )
    idle = np.flatnonzero(np.bincount(owner[owner >= 0], minlength=len(geoms)) == 0)
    if len(idle):
        source = polygons.attrs.get("source") or "corrections"
        features = ", ".join(_feature(polygons.index[k], int(k)) for k in idle[:5])
        warnings.warn(
            f"{source}: {features} change no cell of {layer.name!r} (outside the region, smaller "
            "than a cell centre, or covered by a later feature); they have no effect",
            GeoWarning,
            stacklevel=4,
        )
