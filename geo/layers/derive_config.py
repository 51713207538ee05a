"""The parameters of the derived layers (:class:`DeriveConfig`) and one derived raster.

:class:`DeriveConfig` holds the parameters, :class:`Derived` one derived raster; the codes they
share are defined here too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import rasterio

from geo.grid import Grid
from geo.outputs import atomic_path

__all__ = ["NODATA_F32", "NODATA_U8", "SANDIFIED_CLASSES", "DeriveConfig", "Derived"]


#: Codes of the sandified-degree layer (0 = not sandified). Names as in GB/T 24255-2009.
SANDIFIED_CLASSES = {
    0: ("not sandified", "非沙化"),
    1: ("light", "轻度"),
    2: ("moderate", "中度"),
    3: ("severe", "重度"),
    4: ("extreme", "极重度"),
}


NODATA_U8 = 255


NODATA_F32 = -9999.0


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
    sandy_land_parts : tuple of str
        Battle-zone parts (``part`` column of the shipped ``data/zones/battle_zones.csv``)
        whose banners hold a named sandy land (沙地); there sandification is assessed in
        every climate, since the sandy lands reach the dry sub-humid Köppen C/D climates and
        GB/T 24255-2009 defines sandified land "under any climate" (在各种气候条件下). Default
        the Horqin and Hunshandake parts; ``()`` restores the Köppen-B-only rule.
    sandy_land_confidence : tuple of str
        Confidence levels of the membership rows taken for the sandy lands and deserts
        (default high and medium: banners named in a source or in the sandy land's heartland;
        the ``low`` rows were assigned by count arithmetic or longitude, for the battles as
        policy units, and would spread the sandy lands over whole leagues).
    sandified_candidate_classes : tuple of int
        IGBP classes that can be sandified land: open shrubland 7, savanna 9, grassland 10,
        cropland 12, cropland/natural mosaic 14, barren 16. Barren land stays a candidate:
        mobile dunes (deserts) and gobi are sandified-land types of GB/T 24255-2009, and the
        national monitoring counts them (Alxa: 73.67 % of the league sandified, its deserts
        inside, ``data/official/SOURCES.md``). Bare rock and salt flats are not sandified land,
        but a 5 km land-cover map cannot tell them from gobi, so Alxa is overestimated
        (≈ 99.9 %); the proxy check of the report flags it.
    sandified_fvc_pct : tuple of float
        FVC thresholds (%) separating light / moderate / severe / extreme sandification,
        GB/T 24255-2009: ≥ 40 light, 25–40 moderate, 10–25 severe, < 10 extreme.
    sandified_max_fvc_pct : float
        Candidates inside the named sandy lands and deserts (``sandy_land_parts`` and
        ``desert_parts``) at or above this FVC (%) are not counted as sandified: without a
        field layer of sandy surface, dense vegetation cannot be recognised as sandified land.
    desert_parts : tuple of str
        Battle-zone parts holding the named deserts and dryland sandy lands (Mu Us, Kubuqi,
        Ulan Buh, Tengger, Badain Jaran), where a sandy surface is known to exist.
    sandified_max_fvc_pct_elsewhere : float
        The same FVC cap (%) outside the named sandy lands and deserts: there a vegetated cell
        (light degree, FVC ≥ 40 %) cannot be told from healthy dry steppe without a sand
        layer, so only moderate or worse sandification (FVC < 40 %) is counted.
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
    sandy_land_parts: tuple[str, ...] = (
        "horqin",
        "hunshandake_east",
        "hunshandake_central",
        "hunshandake_west",
    )
    sandified_candidate_classes: tuple[int, ...] = (7, 9, 10, 12, 14, 16)
    sandified_fvc_pct: tuple[float, float, float] = (40.0, 25.0, 10.0)
    sandified_max_fvc_pct: float = 60.0
    sandy_land_confidence: tuple[str, ...] = ("high", "medium")
    desert_parts: tuple[str, ...] = ("mu_us", "kubuqi", "ulan_buh", "tengger", "badain_jaran")
    sandified_max_fvc_pct_elsewhere: float = 40.0
    redline_share_pct: float = 50.46

    def __post_init__(self) -> None:
        """Refuse parameters that would give an undefined or silently wrong FVC (UsageError)."""
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
        """Whether the layer holds class codes."""
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
