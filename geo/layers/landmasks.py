"""Land masks of the derived layers: sandified-land degree, the red-line proxy, the region."""

from __future__ import annotations

import numpy as np
from rasterio.features import rasterize

from geo.grid import Grid
from geo.layers.derive_config import NODATA_U8, DeriveConfig

__all__ = [
    "landcover_groups",
    "rasterize_region",
    "redline_proxy",
    "sandified_degree",
    "sandy_land_banners",
    "sandy_land_mask",
]


def sandified_degree(
    fvc_pct: np.ndarray,
    landcover: np.ndarray,
    climate: np.ndarray,
    valid: np.ndarray,
    config: DeriveConfig,
    sandy_land: np.ndarray | None = None,
    sand_known: np.ndarray | None = None,
) -> np.ndarray:
    """Sandified-land degree codes (see :data:`SANDIFIED_CLASSES`), 255 where undefined.

    A cell is sandified land when it lies in a dryland climate class or inside a named sandy
    land (``sandy_land``, any climate), its land cover is a candidate class and its FVC (%)
    is below ``sandified_max_fvc_pct`` inside the named sandy lands and deserts
    (``sand_known``), below ``sandified_max_fvc_pct_elsewhere`` outside them; the degree
    follows the FVC thresholds of GB/T 24255-2009 (a cell exactly on a threshold takes the
    lighter degree: FVC = 40 % is light, 25 % moderate, 10 % severe).

    Parameters
    ----------
    fvc_pct : numpy.ndarray
        Fractional vegetation cover (%, 0–100).
    landcover, climate : numpy.ndarray
        IGBP classes and Köppen–Geiger main groups, same shape.
    valid : numpy.ndarray
        Cells where every input is defined (bool).
    config : DeriveConfig
    sandy_land : numpy.ndarray, optional
        Cells inside the named sandy lands (bool, :func:`sandy_land_mask`); none if omitted.
    sand_known : numpy.ndarray, optional
        Cells inside the named sandy lands and deserts (bool); if omitted, every cell (the
        single cap ``sandified_max_fvc_pct`` of earlier versions).

    Returns
    -------
    numpy.ndarray
        uint8 degree codes, 255 where not ``valid``.
    """
    light, moderate, severe = config.sandified_fvc_pct
    assessed = np.isin(climate, config.dryland_classes)
    if sandy_land is not None:
        assessed = assessed | sandy_land
    cap = config.sandified_max_fvc_pct
    if sand_known is not None:
        cap = np.where(sand_known, cap, config.sandified_max_fvc_pct_elsewhere)
    candidate = assessed & np.isin(landcover, config.sandified_candidate_classes) & (fvc_pct < cap)
    degree = np.select(
        [fvc_pct >= light, fvc_pct >= moderate, fvc_pct >= severe], [1, 2, 3], default=4
    ).astype("uint8")
    out = np.where(candidate, degree, 0).astype("uint8")
    return np.where(valid, out, NODATA_U8).astype("uint8")


def sandy_land_banners(config: DeriveConfig, parts=None, path=None):
    """Banners of the named sandy lands: members of ``config.sandy_land_parts``.

    Only rows whose confidence is in ``config.sandy_land_confidence`` are taken.

    Parameters
    ----------
    config : DeriveConfig
    parts : sequence of str, optional
        Battle-zone parts to take instead of ``config.sandy_land_parts``.
    path : str or Path, optional
        Battle-zone membership CSV (default the shipped ``data/zones/battle_zones.csv``).

    Returns
    -------
    list of str
        County-level adcodes, sorted, each once.
    """
    from geo.battles import membership

    parts = config.sandy_land_parts if parts is None else tuple(parts)
    if not parts:
        return []
    table = membership(path)
    rows = table["part"].isin(parts) & table["confidence"].isin(config.sandy_land_confidence)
    return sorted(set(table.loc[rows, "adcode"]))


def sandy_land_mask(grid: Grid, config: DeriveConfig, parts=None) -> np.ndarray:
    """Cells of ``grid`` whose centre lies in a banner of a named sandy land (bool).

    ``parts`` as in :func:`sandy_land_banners` (default ``config.sandy_land_parts``).
    """
    from geo import boundaries

    banners = sandy_land_banners(config, parts)
    if not banners:
        return np.zeros(grid.shape, bool)
    counties = boundaries.load("county")
    return rasterize_region(grid, counties[counties["adcode"].isin(banners)])


def rasterize_region(grid: Grid, region) -> np.ndarray:
    """Cells of ``grid`` whose centre lies inside the region polygons (bool, grid shape)."""
    geoms = region.to_crs(grid.crs).geometry.values
    return rasterize(
        [(g, 1) for g in geoms], out_shape=grid.shape, transform=grid.transform, dtype="uint8"
    ).astype(bool)


def redline_proxy(
    fvc_pct: np.ndarray,
    lc: np.ndarray,
    dry: np.ndarray,
    valid: np.ndarray,
    grid: Grid,
    region_mask: np.ndarray,
    config: DeriveConfig,
) -> tuple[np.ndarray, str]:
    """The red-line proxy: the most ecologically important cells, up to the official share.

    Returns
    -------
    tuple of (numpy.ndarray, str)
        uint8 codes (1 inside, 0 outside, 255 undefined) and the method in words.
    """
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
    proxy = np.where(valid, (score >= threshold).astype("uint8"), NODATA_U8).astype("uint8")
    method = (
        "red-line PROXY, not the official red line: ecological-importance score = 1 for forest "
        "(IGBP 1-5, 8), wetland and water, else FVC; in drylands at least 1 - FVC (sand-fixation "
        f"importance); cells with score >= {threshold:.4f} selected so that the region-wide share "
        f"equals the official {config.redline_share_pct} %"
    )
    return proxy, method


def landcover_groups(lc: np.ndarray, config: DeriveConfig) -> np.ndarray:
    """IGBP classes regrouped by China's definitions (uint8 codes 1–5).

    The codes are 1 forest, 2 shrub forest, 3 grassland, 4 other land, 5 water; see
    :class:`DeriveConfig` for the IGBP class lists of each group.
    """
    return np.select(
        [
            np.isin(lc, config.forest_classes),
            np.isin(lc, config.shrub_forest_classes),
            np.isin(lc, config.grassland_classes),
            lc == 0,
        ],
        [1, 2, 3, 5],
        default=4,
    ).astype("uint8")
