"""Yearly series per zone from a stack (``barrier series``).

Every layer of a :class:`geo.stack.Stack` is summarised over the zones in one call of
:func:`geo.zonal.zonal_stats_each`: the coverage of the zones on the stack's grid is built once
(the process coverage cache) and the years are read in one pass over the grid's windows.
The result is tidy: one row per zone, year and statistic (value layers) or class (class
layers, with km², ha, mu and % of the zone's valid area).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.stack import Stack

__all__ = ["zone_series"]


def zone_series(
    zones,
    stack: Stack,
    stats: Sequence[str] = ("mean",),
    *,
    categorical: bool = False,
    nodata_values: Sequence[float] = (),
    id_column: str = "zone",
    progress=None,
) -> pd.DataFrame:
    """Summarise every year of ``stack`` over ``zones``.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        Polygon zones indexed by their identifier (``name_zh``/``name_en`` carried when
        present).
    stack : geo.stack.Stack
        Yearly layers on one grid.
    stats : sequence of str
        Statistics of :data:`geo.zonal.STATS` for value layers (``mean``, ``area_mean`` …).
    categorical : bool
        Class layers: give the area of each class instead of ``stats``.
    nodata_values : sequence of float
        Stored values that mean "no data" besides each layer's declared nodata
        (0 for JRC Global Surface Water yearly classes).
    id_column : str
        Name of the identifier column of the table.
    progress : callable, optional
        Called with ``(layers done, layers in total)`` for each year once its table is
        made (after the one pass that reads every year).

    Returns
    -------
    pandas.DataFrame
        Value layers: ``id_column``, names, ``year``, ``stat``, ``value`` and
        ``valid_area_km2``. Class layers: ``id_column``, names, ``year``, ``class``,
        ``area_km2``, ``area_ha``, ``area_mu`` and ``pct`` (of the zone's valid area that
        year), plus ``valid_area_km2`` and ``nodata_area_km2``.
    """
    from geo.units import convert
    from geo.zonal import zonal_stats_each

    names = [c for c in ("name_zh", "name_en") if c in zones.columns]
    # one coverage for the stack's grid and one pass over its windows for every year
    _, tables = zonal_stats_each(
        zones,
        stack,
        () if categorical else tuple(stats),
        categorical=categorical,
        nodata_values=nodata_values,
    )
    frames = []
    for k, (year, table) in enumerate(tables):
        head = pd.DataFrame({id_column: list(zones.index)}, index=zones.index)
        for col in names:
            head[col] = zones[col].to_numpy()
        head["year"] = year
        frames.append((head, table))
        if progress:
            progress(k + 1, len(stack))
    if not categorical:
        return pd.concat([_value_rows(h, t, stats) for h, t in frames], ignore_index=True)
    # every class seen in any year, with 0 km² in the years without it
    codes = sorted(
        {int(c.rsplit("_", 1)[1]) for _, t in frames for c in t if c.startswith("area_km2_")}
    )
    return pd.concat([_class_rows(h, t, codes, convert) for h, t in frames], ignore_index=True)


def _value_rows(head: pd.DataFrame, table: pd.DataFrame, stats) -> pd.DataFrame:
    rows = [
        head.assign(stat=stat, value=table[stat].to_numpy(), valid_area_km2=table["valid_area_km2"])
        for stat in stats
    ]
    return pd.concat(rows, ignore_index=True)


def _class_rows(head: pd.DataFrame, table: pd.DataFrame, codes, convert) -> pd.DataFrame:
    valid = table["valid_area_km2"].to_numpy()
    rows = []
    for code in codes:
        column = f"area_km2_{code}"
        area = table[column].to_numpy() if column in table else np.zeros(len(table))
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = np.where(valid > 0, 100.0 * area / valid, np.nan)
        rows.append(
            head.assign(
                **{
                    "class": code,
                    "area_km2": area,
                    "area_ha": convert(area, "km2", "ha"),
                    "area_mu": convert(area, "km2", "mu"),
                    "pct": pct,
                    "valid_area_km2": valid,
                    "nodata_area_km2": table["nodata_area_km2"].to_numpy(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
