"""Key lakes early warning: water area per lake and year from yearly water masks.

The lake zones are the shipped outlines (:func:`key_lakes`, Natural Earth, see
``data/lakes/SOURCES.md``) or a user's polygon file, buffered by ``buffer_km`` so that a moved
shore or a generalised outline does not cut the lake. The water area of each year is the exact
ground area of the water classes of that year's mask inside the zone (km², ha, mu). Against a
baseline period (mean ``μ`` and sample standard deviation ``σ`` of the yearly areas), each year
gets its anomaly and a warning when

- the area is below ``μ − k·σ`` (``k`` = ``sd_factor``, default 2), or
- the area fell by more than ``drop_pct`` % (default 10 %) from the previous year.

A year whose lake zone is more than ``max_nodata_pct`` % unobserved (no data in the mask) gets
no warning but a note: its area is a lower bound, not a measurement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import UsageError
from geo.stack import Stack

__all__ = ["WATER_SCHEMES", "WarningRule", "key_lakes", "lake_water"]

#: Water-mask conventions: water classes and values meaning "not observed".
WATER_SCHEMES = {
    # JRC Global Surface Water yearly classification: 0 no data, 1 not water,
    # 2 seasonal water, 3 permanent water (Pekel et al. 2016)
    "jrc": {"water": (2, 3), "nodata": (0,)},
    # a user's 0/1 mask (NDWI threshold …): 1 water, 0 land, declared nodata
    "mask": {"water": (1,), "nodata": ()},
}
_LAKES_FILE = ("lakes", "key_lakes_ne.gpkg")


@dataclass(frozen=True)
class WarningRule:
    """When a year's water area raises a warning.

    Attributes
    ----------
    baseline : tuple of int, optional
        First and last year of the baseline period (default: every year of the stack before
        the last five, or all years when fewer than ten).
    sd_factor : float
        ``k`` of the rule "area < baseline mean − k × baseline SD".
    drop_pct : float
        Year-on-year fall, % of the previous year's area, that raises a warning.
    max_nodata_pct : float
        Share of the lake zone without observation (%) above which a year is not judged.
    """

    baseline: tuple[int, int] | None = None
    sd_factor: float = 2.0
    drop_pct: float = 10.0
    max_nodata_pct: float = 10.0


def key_lakes(path: str | Path | None = None, *, buffer_km: float = 2.0, id_field: str = "lake"):
    """The lake zones: shipped outlines (or a user's file), buffered by ``buffer_km``.

    Parameters
    ----------
    path : str or Path, optional
        A polygon file with fields ``lake`` (identifier), ``name_zh``, ``name_en``;
        default the shipped ``data/lakes/key_lakes_ne.gpkg``.
    buffer_km : float
        Buffer around each outline, km (computed on an equal-area projection).
    id_field : str
        Field identifying each lake in ``path``.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by the lake identifier, with ``lake``, ``name_zh``, ``name_en``,
        ``outline_km2`` (area of the outline) and ``zone_km2`` (area of the buffered zone),
        geometry in WGS84; ``attrs["source"]`` and ``attrs["buffer_km"]`` record the origin.

    Examples
    --------
    >>> from geo.lakes import key_lakes
    >>> lakes = key_lakes(buffer_km=2.0)
    >>> list(lakes.index)
    ['hulun', 'ulansuhai', 'dalinor', 'gaxun_nur']
    >>> round(float(lakes.loc["hulun", "outline_km2"]))
    2355
    >>> own = key_lakes("my_lakes.gpkg", id_field="lake_id")  # doctest: +SKIP
    """
    from geo import zones
    from geo.crs import EQUAL_AREA
    from geo.data import data_path

    if buffer_km < 0:
        raise UsageError(f"lake buffer must be 0 km or more, not {buffer_km}")
    source = Path(path) if path is not None else data_path(*_LAKES_FILE)
    frame = zones.load(source, id_field=id_field)
    if "lake" not in frame.columns:
        frame["lake"] = frame.index
    equal_area = frame.to_crs(EQUAL_AREA)
    buffered = equal_area.buffer(buffer_km * 1000.0)
    out = frame[["lake", "name_zh", "name_en"]].copy()
    out["outline_km2"] = equal_area.area.to_numpy() / 1e6
    out["zone_km2"] = buffered.area.to_numpy() / 1e6
    out = out.set_geometry(buffered.to_crs(4326).to_numpy(), crs=4326)
    out.attrs.update(source=str(source), buffer_km=float(buffer_km))
    return out


def lake_water(
    stack: Stack,
    lakes,
    *,
    scheme: str = "jrc",
    water_classes: Sequence[int] | None = None,
    rule: WarningRule | None = None,
) -> pd.DataFrame:
    """Water area per lake and year, its anomaly and the warnings.

    Parameters
    ----------
    stack : geo.stack.Stack
        Yearly water masks on one grid.
    lakes : geopandas.GeoDataFrame
        Lake zones (:func:`key_lakes`).
    scheme : {"jrc", "mask"}
        Convention of the masks (:data:`WATER_SCHEMES`).
    water_classes : sequence of int, optional
        Classes counted as water (default: the scheme's).
    rule : WarningRule, optional
        Baseline and thresholds (default :class:`WarningRule`).

    Returns
    -------
    pandas.DataFrame
        One row per lake and year: ``lake``, ``name_zh``, ``name_en``, ``year``,
        ``water_km2``, ``water_ha``, ``water_mu``, ``observed_km2``, ``nodata_pct``,
        ``baseline_mean_km2``, ``baseline_sd_km2``, ``anomaly_km2``, ``anomaly_pct``,
        ``change_from_previous_pct``, ``warning`` (bool) and ``warning_reason`` (text).
    """
    from geo.series import zone_series

    if scheme not in WATER_SCHEMES:
        raise UsageError(f"water scheme {scheme!r} is not one of {', '.join(WATER_SCHEMES)}")
    rule = rule or WarningRule()
    water = tuple(water_classes or WATER_SCHEMES[scheme]["water"])
    rows = zone_series(
        lakes,
        stack,
        categorical=True,
        nodata_values=WATER_SCHEMES[scheme]["nodata"],
        id_column="lake",
    )
    keys = ["lake", "year"]
    wet = rows[rows["class"].isin(water)].groupby(keys)["area_km2"].sum()
    first = rows.groupby(keys)[["valid_area_km2", "nodata_area_km2"]].first()
    table = first.join(wet.rename("water_km2")).fillna({"water_km2": 0.0}).reset_index()
    names = lakes[["name_zh", "name_en"]].rename_axis("lake").reset_index()
    table = names.merge(table, on="lake", how="right")
    return _judge(table, rule, stack.years)


def _baseline(years: Sequence[int], rule: WarningRule) -> tuple[int, int]:
    if rule.baseline is not None:
        return rule.baseline
    if len(years) < 10:
        return years[0], years[-1]
    return years[0], years[-6]


def _judge(table: pd.DataFrame, rule: WarningRule, years) -> pd.DataFrame:
    from geo.units import convert

    first, last = _baseline(years, rule)
    table = table.rename(columns={"valid_area_km2": "observed_km2"})
    covered = table["observed_km2"] + table["nodata_area_km2"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["nodata_pct"] = np.where(covered > 0, 100 * table["nodata_area_km2"] / covered, 0)
    table["water_ha"] = convert(table["water_km2"].to_numpy(), "km2", "ha")
    table["water_mu"] = convert(table["water_km2"].to_numpy(), "km2", "mu")
    judged = []
    for _, lake in table.groupby("lake", sort=False):
        lake = lake.sort_values("year").copy()
        base = lake[(lake["year"] >= first) & (lake["year"] <= last)]
        base = base[base["nodata_pct"] <= rule.max_nodata_pct]["water_km2"]
        mean = base.mean() if len(base) else np.nan
        sd = base.std(ddof=1) if len(base) > 1 else np.nan
        lake["baseline_mean_km2"], lake["baseline_sd_km2"] = mean, sd
        lake["anomaly_km2"] = lake["water_km2"] - mean
        lake["anomaly_pct"] = 100 * lake["anomaly_km2"] / mean if mean else np.nan
        previous = lake["water_km2"].shift(1)
        lake["change_from_previous_pct"] = 100 * (lake["water_km2"] - previous) / previous
        reasons = [_reason(r, mean, sd, rule) for r in lake.itertuples()]
        lake["warning"] = [bool(r) and not r.startswith("not judged") for r in reasons]
        lake["warning_reason"] = reasons
        judged.append(lake)
    out = pd.concat(judged, ignore_index=True)
    out.attrs.update(baseline=(first, last), rule=rule)
    return out[_COLUMNS]


_COLUMNS = [
    "lake", "name_zh", "name_en", "year", "water_km2", "water_ha", "water_mu", "observed_km2",
    "nodata_pct", "baseline_mean_km2", "baseline_sd_km2", "anomaly_km2", "anomaly_pct",
    "change_from_previous_pct", "warning", "warning_reason",
]  # fmt: skip


def _reason(row, mean: float, sd: float, rule: WarningRule) -> str:
    if row.nodata_pct > rule.max_nodata_pct:
        return (
            f"not judged: {row.nodata_pct:.0f} % of the lake zone unobserved "
            f"(> {rule.max_nodata_pct:g} %); the area is a lower bound"
        )
    reasons = []
    if np.isfinite(sd) and row.water_km2 < mean - rule.sd_factor * sd:
        floor = mean - rule.sd_factor * sd
        reasons.append(f"below baseline mean − {rule.sd_factor:g} SD ({floor:.1f} km²)")
    change = row.change_from_previous_pct
    if np.isfinite(change) and change < -rule.drop_pct:
        reasons.append(f"fell {-change:.1f} % from the previous year (> {rule.drop_pct:g} %)")
    return "; ".join(reasons)
