"""The land-cover columns of ``barrier stats --landcover``: group areas and grassland means."""

from __future__ import annotations

import pandas as pd

from geo.landcover.run import LandCover, grid_of
from geo.landcover.schemes import GROUPS

__all__ = ["stats_columns"]


def stats_columns(zone_set, landcover: LandCover, layers=(), unit: str = "km2") -> pd.DataFrame:
    """Per-zone land-cover columns for a statistics table.

    Parameters
    ----------
    zone_set : geo.zones.ZoneSet
        The zones (one row each, in their order).
    landcover : LandCover
        The fine land-cover raster and its scheme.
    layers : sequence of geo.layers.Layer
        Layers of the table; each value (non-class) layer gets its mean over the fine
        grassland area (its flags count as nodata, its scale and offset applied).
    unit : str
        Unit of the area columns (:data:`geo.units.AREA_UNITS`).

    Returns
    -------
    pandas.DataFrame
        Positional index: ``landcover_<group>_area_<unit>`` for every group but ``nodata``,
        ``landcover_land_area_<unit>``, ``landcover_forest_cover_pct`` ((forest + shrub
        forest) / land area, %), ``landcover_nodata_area_<unit>`` (nodata and fill cells) and
        ``landcover_outside_area_<unit>`` (part of the zone beyond the raster); for each
        value layer ``<layer>_grassland_mean`` (physical units) and
        ``<layer>_grassland_area_<unit>`` (the grassland area the mean rests on).
    """
    from geo.tables.format import in_units

    values = [layer for layer in layers if not layer.categorical]
    # the areas and the grassland weights of every value layer's grid: one read of the raster
    landcover.read(zone_set, [grid_of(layer.path) for layer in values])
    areas = landcover.areas(zone_set)
    keep = [f"{g}_area_km2" for g in GROUPS[:-1]]
    keep += ["land_area_km2", "forest_cover_pct", "nodata_area_km2", "outside_area_km2"]
    out = areas[keep].add_prefix("landcover_")
    for layer in values:
        mean = landcover.class_mean(
            zone_set, layer.path, "grassland", nodata_values=tuple(layer.flags)
        )
        out[f"{layer.name}_grassland_mean"] = mean["mean"] * layer.scale + layer.offset
        out[f"{layer.name}_grassland_area_km2"] = mean["area_km2"]
    return in_units(out.reset_index(drop=True), unit)
