"""Progress to the plan's dated targets: latest value, trend, projection and status per zone.

For each targeted indicator (:data:`TARGETS`: grassland vegetation cover ≥ 45 % by 2027,
forest cover 21.98 % by 2027, treatment of treatable sandified land ≥ 54.33 % by 2027, Ten
Kongdui soil and water conservation rate ≥ 63 % by 2030 and ≥ 64 % by 2035) and each zone and
kind of series (``official`` from the bureau's statistics, ``proxy`` from remote sensing —
never mixed), the yearly values are fitted with an ordinary least-squares line
``value = a + b · year``; the projection to the target year comes with its two-sided
prediction interval (``level``, default 90 %):
``ŷ(T) ± t(n−2) · s · √(1 + 1/n + (T − x̄)² / Σ(x − x̄)²)``.

Status (for a "≥" target):

- **met** / **missed**: the target year has a value; it meets the target or not;
- **on track**: the lower bound of the projection meets the target;
- **off track**: the upper bound falls short of it;
- **at risk**: the target lies inside the interval;
- **too few years**: fewer than three years (no line can be judged).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import DataError, UsageError

__all__ = ["OFFICIAL_COLUMNS", "STATUS", "TARGETS", "Target", "progress_table", "read_official"]


@dataclass(frozen=True)
class Target:
    """A dated target of the plan.

    Attributes
    ----------
    key : str
        Identifier of the target (also the citation key in :data:`geo.citations.CITATIONS`).
    indicator : str
        Indicator id the series use (``grassland_fvc_pct`` …).
    name_zh, name_en : str
        Indicator names.
    value : float
        Target value, % .
    direction : {">=", "<="}
        ``">="``: the value must reach the target or more.
    year : int
        Target year.
    """

    key: str
    indicator: str
    name_zh: str
    name_en: str
    value: float
    direction: str
    year: int

    def meets(self, value: float) -> bool:
        """Whether ``value`` meets the target."""
        return value >= self.value if self.direction == ">=" else value <= self.value


#: The dated targets of the plan (plan digest T01–T05; citations in geo.citations).
TARGETS = (
    Target("grassland_cover_2027", "grassland_fvc_pct", "草原综合植被盖度",
           "grassland vegetation cover", 45.0, ">=", 2027),
    Target("forest_cover_2027", "forest_cover_pct", "森林覆盖率", "forest cover",
           21.98, ">=", 2027),
    Target("sand_treatment_2027", "treated_sandified_pct", "可治理沙化土地治理率",
           "treatment rate of treatable sandified land", 54.33, ">=", 2027),
    Target("kongdui_2030", "kongdui_swc_pct", "十大孔兑水土保持率",
           "Ten Kongdui soil and water conservation rate", 63.0, ">=", 2030),
    Target("kongdui_2035", "kongdui_swc_pct", "十大孔兑水土保持率",
           "Ten Kongdui soil and water conservation rate", 64.0, ">=", 2035),
)  # fmt: skip

#: Status words: code → (Chinese, English).
STATUS = {
    "met": ("已达标", "met"),
    "missed": ("未达标", "missed"),
    "on_track": ("按期可达", "on track"),
    "at_risk": ("存在风险", "at risk"),
    "off_track": ("难以按期达标", "off track"),
    "too_few_years": ("年份不足", "too few years"),
}
#: Columns of an official series file.
OFFICIAL_COLUMNS = ("indicator", "zone", "year", "value", "source")


def read_official(path: str | Path) -> pd.DataFrame:
    """Read the bureau's official series (CSV: indicator, zone, year, value, source).

    Parameters
    ----------
    path : str or Path
        The CSV file (UTF-8, header ``indicator,zone,year,value,source``; values in %).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`OFFICIAL_COLUMNS` and ``kind`` (``"official"``), one row per line.

    Raises
    ------
    geo.errors.DataError
        Missing file or column, a year that is not a whole number, a value that is not a
        number (the line is named), or a zone and year given twice for one indicator.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype={"zone": str, "source": str}, encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"official series {path} does not exist; check the path") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"official series {path} is not a UTF-8 CSV file ({exc})") from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in OFFICIAL_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"official series {path} lacks the column(s) {', '.join(missing)}; "
            f"the header must be {','.join(OFFICIAL_COLUMNS)}"
        )
    for column in ("year", "value"):
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna() | (column == "year") & (numbers % 1 != 0)
        if bad.any():
            line = int(np.flatnonzero(bad)[0]) + 2
            raise DataError(
                f"official series {path} line {line}: {column} {table[column].iloc[line - 2]!r} "
                "is not a number" + (" (a whole year)" if column == "year" else "")
            )
        table[column] = numbers
    table["year"] = table["year"].astype(int)
    twice = table.duplicated(["indicator", "zone", "year"])
    if twice.any():
        row = table[twice].iloc[0]
        raise DataError(
            f"official series {path}: {row.indicator} for zone {row.zone} in {row.year} is "
            "given twice; keep one value"
        )
    return table[list(OFFICIAL_COLUMNS)].assign(kind="official")


def progress_table(series: pd.DataFrame, *, level: float = 0.9, targets=TARGETS) -> pd.DataFrame:
    """Latest value, trend, projection and status per target, zone and kind of series.

    Parameters
    ----------
    series : pandas.DataFrame
        Columns ``indicator``, ``zone``, ``year``, ``value`` (%), ``kind`` (``official`` or
        ``proxy``), optionally ``source``.
    level : float
        Probability of the projection's prediction interval.
    targets : sequence of Target
        The targets to judge (default :data:`TARGETS`).

    Returns
    -------
    pandas.DataFrame
        One row per target, zone and kind: ``target``, ``indicator``, ``zone``, ``kind``,
        ``target_value``, ``target_year``, ``years`` (first–last), ``n_years``,
        ``latest_year``, ``latest_value``, ``slope_per_year``, ``projected``,
        ``projected_low``, ``projected_high``, ``status``, ``status_zh``, ``status_en``.

    Examples
    --------
    >>> import pandas as pd
    >>> from geo.progress import progress_table
    >>> series = pd.DataFrame({
    ...     "indicator": "grassland_fvc_pct", "zone": "150000", "kind": "proxy",
    ...     "year": [2019, 2020, 2021, 2022, 2023], "value": [44.0, 44.5, 45.0, 45.5, 46.0],
    ... })
    >>> row = progress_table(series).iloc[0]
    >>> float(row["slope_per_year"]), float(row["projected"]), row["status"]
    (0.5, 48.0, 'on_track')
    """
    if not 0 < level < 1:
        raise UsageError(f"level must lie between 0 and 1, not {level}")
    rows = []
    for target in targets:
        wanted = series[series["indicator"] == target.indicator]
        for (zone, kind), group in wanted.groupby(["zone", "kind"], sort=True):
            rows.append(_judge(target, zone, kind, group.sort_values("year"), level))
    columns = [
        "target", "indicator", "zone", "kind", "target_value", "target_year", "years",
        "n_years", "latest_year", "latest_value", "slope_per_year", "projected",
        "projected_low", "projected_high", "status", "status_zh", "status_en",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _judge(target: Target, zone, kind, group: pd.DataFrame, level: float) -> dict:
    x = group["year"].to_numpy(float)
    y = group["value"].to_numpy(float)
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    row = {
        "target": target.key,
        "indicator": target.indicator,
        "zone": zone,
        "kind": kind,
        "target_value": target.value,
        "target_year": target.year,
        "years": f"{int(x[0])}–{int(x[-1])}" if len(x) else "",
        "n_years": len(x),
        "latest_year": int(x[-1]) if len(x) else None,
        "latest_value": y[-1] if len(y) else np.nan,
    }
    fit = _projection(x, y, target.year, level)
    names = ("slope_per_year", "projected", "projected_low", "projected_high")
    row.update(zip(names, fit, strict=True))
    status = _status(target, x, y, fit)
    row.update(status=status, status_zh=STATUS[status][0], status_en=STATUS[status][1])
    return row


def _projection(x: np.ndarray, y: np.ndarray, year: int, level: float) -> tuple[float, ...]:
    from scipy import stats

    n = len(x)
    if n < 3:
        return (np.nan,) * 4
    mean = x.mean()
    sxx = ((x - mean) ** 2).sum()
    slope = ((x - mean) * (y - y.mean())).sum() / sxx
    intercept = y.mean() - slope * mean
    resid = y - (intercept + slope * x)
    s = np.sqrt((resid**2).sum() / (n - 2))
    half = stats.t.ppf(0.5 + level / 2, n - 2) * s * np.sqrt(1 + 1 / n + (year - mean) ** 2 / sxx)
    projected = intercept + slope * year
    return slope, projected, projected - half, projected + half


def _status(target: Target, x, y, fit) -> str:
    at = np.flatnonzero(x == target.year)
    if at.size:
        return "met" if target.meets(y[at[-1]]) else "missed"
    if len(x) < 3:
        return "too_few_years"
    _, _, low, high = fit
    good, bad = (low, high) if target.direction == ">=" else (high, low)
    if target.meets(good):
        return "on_track"
    if not target.meets(bad):
        return "off_track"
    return "at_risk"
