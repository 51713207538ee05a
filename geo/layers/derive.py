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
from dataclasses import asdict
from pathlib import Path

import numpy as np
import rasterio

from geo.errors import DataError
from geo.grid import Grid
from geo.layers import Layer, catalogue
from geo.layers.corrections import (
    DERIVED_CLASSES,
    DERIVED_RANGES,
    apply_corrections,
    check_corrections,
)
from geo.layers.derive_config import (
    NODATA_F32,
    NODATA_U8,
    SANDIFIED_CLASSES,
    DeriveConfig,
    Derived,
)
from geo.layers.fvc import check_ndvi, fvc_from_ndvi, fvc_percent, read_on_grid
from geo.layers.landmasks import (
    landcover_groups,
    rasterize_region,
    redline_proxy,
    sandified_degree,
    sandy_land_banners,
    sandy_land_mask,
)
from geo.layers.layer_cache import META, cached_meta, write_cache

__all__ = [
    "DERIVED_CLASSES",
    "DERIVED_NAMES",
    "DERIVED_RANGES",
    "SANDIFIED_CLASSES",
    "DeriveConfig",
    "Derived",
    "apply_corrections",
    "check_corrections",
    "check_ndvi",
    "derive_all",
    "derived_layers",
    "fvc_from_ndvi",
    "read_on_grid",
    "sandified_degree",
]


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
    region_mask = rasterize_region(grid, region)
    fvc_pct, fvc_method = fvc_percent(grid, region_mask, config)
    ok = lc_ok & np.isfinite(fvc_pct)
    dry = cl_ok & np.isin(climate, config.dryland_classes)
    f32 = lambda a, m: np.where(m, a, NODATA_F32).astype("float32")  # noqa: E731
    grass = ok & np.isin(lc, config.grassland_classes)
    cn = landcover_groups(lc, config)
    sandy = sandy_land_mask(grid, config)
    known = sandy | sandy_land_mask(grid, config, config.desert_parts)
    sand = sandified_degree(
        fvc_pct, lc, np.where(cl_ok, climate, 0), ok & cl_ok, config, sandy, known
    )
    redline, red_method = redline_proxy(fvc_pct, lc, dry, ok, grid, region_mask, config)
    return {
        "fvc": Derived("fvc", f32(fvc_pct, ok), grid, NODATA_F32, "continuous", "%", fvc_method),
        "fvc_grassland": Derived(
            "fvc_grassland",
            f32(fvc_pct, grass),
            grid,
            NODATA_F32,
            "continuous",
            "%",
            f"{fvc_method}; grassland cells only (IGBP {list(config.grassland_classes)})",
        ),
        "landcover_cn": Derived(
            "landcover_cn",
            np.where(lc_ok, cn, NODATA_U8).astype("uint8"),
            grid,
            NODATA_U8,
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
            NODATA_U8,
            "categorical",
            "degree",
            "sandified-land PROXY: (Koppen-Geiger groups "
            f"{list(config.dryland_classes)} or, in any climate, the banners of the sandy-land "
            f"parts {list(config.sandy_land_parts)} of the battle-zone table: "
            f"{len(sandy_land_banners(config))} banners) x IGBP "
            f"{list(config.sandified_candidate_classes)} x FVC < "
            f"{config.sandified_max_fvc_pct:g} % inside the named sandy lands and deserts "
            f"(parts {list(config.desert_parts)} and the sandy-land parts), < "
            f"{config.sandified_max_fvc_pct_elsewhere:g} % elsewhere (no light degree where no "
            "sand surface is known); barren land (deserts, gobi) counted as GB/T 24255 types, "
            "bare rock and salt flats not separable at 5 km; degrees by FVC thresholds "
            f"{list(config.sandified_fvc_pct)} % (GB/T 24255-2009)",
            {k: v[0] for k, v in SANDIFIED_CLASSES.items()},
        ),
        "redline_proxy": Derived(
            "redline_proxy",
            redline,
            grid,
            NODATA_U8,
            "categorical",
            "class",
            red_method,
            {0: "outside", 1: "inside"},
        ),
    }


#: Names of the derived layers, for the catalogue and ``barrier stats --layer``.
DERIVED_NAMES = ("fvc", "fvc_grassland", "landcover_cn", "sandified", "redline_proxy")


def _inputs_key(config: DeriveConfig) -> str:
    from geo import __version__
    from geo.data import data_path, sha256

    digest = hashlib.sha256(f"{__version__}|{config.key()}".encode())
    if Path(config.ndvi).is_file():
        digest.update(sha256(config.ndvi).encode())
    for layer in catalogue().values():
        digest.update(sha256(layer.path).encode())
    digest.update(sha256(data_path("boundaries", "im_admin_wgs84.gpkg")).encode())
    # the sandy-land banners come from the shipped battle-zone table
    digest.update(sha256(data_path("zones", "battle_zones.csv")).encode())
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
    meta = None if force else cached_meta(folder, META, files, "derived-layer")
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
        meta = write_cache(folder, write, files, extra)
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
