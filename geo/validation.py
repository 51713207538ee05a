"""The proxies against the published official figures per league (and region).

:func:`validate` puts each computed value beside the official figure of the same unit
(``data/official/league_figures.csv``, sourced in ``SOURCES.md`` there) and gives, per
indicator, the mean absolute error (MAE), the mean error (bias), Spearman's rank correlation
and the number of units compared. An indicator is flagged ``large_error`` when its MAE exceeds
:data:`LARGE_ERROR`: more than 5 percentage points for shares (%), more than 25 % of the mean
official figure for areas. Only values that rest on the toolkit's proxies are flagged: an
indicator computed from an official layer (``official`` in the long table) is compared but
never flagged, so official layers supplied later (``--redline``, ``--forest`` …) drop out of
the flags by themselves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import DataError

__all__ = [
    "LARGE_ERROR",
    "OFFICIAL_COLUMNS",
    "load_official",
    "proxy_checks",
    "summarise",
    "validate",
    "wide_with_proxy_checks",
    "with_proxy_checks",
]

#: Columns of the official-figures CSV.
OFFICIAL_COLUMNS = (
    "indicator",
    "level",
    "adcode",
    "name_zh",
    "name_en",
    "year",
    "year_basis",
    "value",
    "unit",
    "title",
    "publisher",
    "url",
    "date",
    "quote",
    "note",
)

#: MAE above which a proxy is flagged: (unit, threshold, kind) with kind "points" (absolute,
#: percentage points) or "relative" (fraction of the mean official figure).
LARGE_ERROR = {"%": (5.0, "points"), "km2": (0.25, "relative")}

#: Fewer units than this give no rank correlation (two points always rank ±1).
MIN_RANKED = 3


def load_official(path: str | Path | None = None) -> pd.DataFrame:
    """Read the official figures.

    Parameters
    ----------
    path : str or Path, optional
        CSV with :data:`OFFICIAL_COLUMNS` (UTF-8); default the shipped
        ``data/official/league_figures.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per figure; ``value`` (in ``unit``: % or km²) and ``year`` numeric, ``adcode``
        text.

    Raises
    ------
    geo.errors.DataError
        Missing or unreadable file, a missing column, a value that is not a number, a unit
        other than % or km2, or a repeated (indicator, level, adcode). The message names the
        file and the line.
    """
    from geo.data import data_path

    path = Path(path) if path is not None else data_path("official", "league_figures.csv")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"official figures {path}: cannot be read ({exc})") from exc
    missing = [c for c in OFFICIAL_COLUMNS if c not in table]
    if missing:
        raise DataError(f"official figures {path}: missing column(s) {missing}; see SOURCES.md")
    values = pd.to_numeric(table["value"], errors="coerce")
    for i in np.flatnonzero(values.isna() | ~np.isfinite(values.fillna(0))):
        raise DataError(
            f"official figures {path}, line {i + 2}: value {table['value'].iloc[i]!r} is not a "
            "number; write the figure as published, e.g. 35.6"
        )
    for i in np.flatnonzero(~table["unit"].isin(LARGE_ERROR)):
        raise DataError(
            f"official figures {path}, line {i + 2}: unit {table['unit'].iloc[i]!r} is not one "
            f"of {sorted(LARGE_ERROR)}"
        )
    key = ["indicator", "level", "adcode"]
    for i in np.flatnonzero(table.duplicated(key)):
        raise DataError(
            f"official figures {path}, line {i + 2}: a second figure for "
            f"{tuple(table.loc[i, key])}; keep one per indicator and unit"
        )
    table["value"] = values
    table["year"] = pd.to_numeric(table["year"], errors="coerce")
    table.attrs["source"] = str(path)
    return table


def _is_official(results, level: str, key: str) -> bool:
    """Whether the run computed ``key`` from an official layer (the long table says so)."""
    long = results.long.get(level) if hasattr(results, "long") else None
    if long is None or "official" not in long or "indicator" not in long:
        return False
    rows = long.loc[long["indicator"] == key, "official"]
    return bool(len(rows)) and bool(rows.astype(bool).all())


def validate(results, official: pd.DataFrame | None = None) -> pd.DataFrame:
    """The computed values beside the official figures, with error statistics per indicator.

    Parameters
    ----------
    results : geo.pipeline.Results
        Its wide tables (``results.wide[level]``, indexed by row, with ``adcode``) give the
        computed values; figures of a level or indicator the run lacks are left out.
    official : pandas.DataFrame, optional
        :func:`load_official` (default: the shipped figures).

    Returns
    -------
    pandas.DataFrame
        One row per official figure compared: ``indicator``, ``level``, ``adcode``,
        ``name_zh``, ``name_en``, ``unit``, ``year``, ``official`` (the figure), ``computed``
        (the toolkit's value), ``error`` (computed − official, in the unit), ``abs_error``,
        ``relative_error_pct`` (error ÷ official × 100), ``kind`` (``"proxy"`` or
        ``"official"``: what the computed value rests on), the source (``title``, ``url``,
        ``quote``), and per indicator (same on each of its rows, over its league rows, or its
        province rows when it has no league row): ``n``, ``mae``, ``bias`` (mean error),
        ``spearman_rho`` (NaN below :data:`MIN_RANKED` units), ``threshold`` (text),
        ``large_error`` (bool, proxies only) and ``proxy_check`` (the flag text, ``""`` when
        not flagged).
    """
    official = load_official() if official is None else official
    rows = []
    for fig in official.itertuples(index=False):
        table = results.wide.get(fig.level)
        if table is None or fig.indicator not in table or "adcode" not in table:
            continue
        match = table.loc[table["adcode"].astype(str) == str(fig.adcode), fig.indicator]
        if match.empty:
            continue
        computed = float(match.iloc[0])
        rows.append(
            {
                "indicator": fig.indicator,
                "level": fig.level,
                "adcode": str(fig.adcode),
                "name_zh": fig.name_zh,
                "name_en": fig.name_en,
                "unit": fig.unit,
                "year": fig.year,
                "official": float(fig.value),
                "computed": computed,
                "error": computed - float(fig.value),
                "kind": "official" if _is_official(results, fig.level, fig.indicator) else "proxy",
                "title": fig.title,
                "url": fig.url,
                "quote": fig.quote,
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["abs_error"] = frame["error"].abs()
    frame["relative_error_pct"] = frame["error"] / frame["official"] * 100.0
    stats = summarise(frame)
    return frame.merge(stats, on="indicator", how="left")


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Error statistics per indicator of a :func:`validate` table (its per-figure columns).

    The statistics are over the league rows of an indicator, or over its province rows when
    it has no league row (the region-wide figure is not a league sample).

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``indicator``, ``n``, ``mae``, ``bias``, ``spearman_rho``,
        ``threshold``, ``large_error``, ``proxy_check``.
    """
    from scipy.stats import spearmanr

    out = []
    for key, group in frame.groupby("indicator", sort=False):
        sample = group[group["level"] == "league"]
        sample = sample if len(sample) else group
        n = len(sample)
        mae = float(sample["error"].abs().mean())
        bias = float(sample["error"].mean())
        rho = np.nan
        if n >= MIN_RANKED:
            rho = float(spearmanr(sample["computed"], sample["official"]).statistic)
        unit = sample["unit"].iloc[0]
        limit, how = LARGE_ERROR[unit]
        if how == "points":
            large, threshold = mae > limit, f"MAE > {limit:g} percentage points"
            said = f"MAE {mae:.1f} points"
        else:
            large = mae > limit * float(sample["official"].abs().mean())
            threshold = f"MAE > {limit:.0%} of the mean official figure"
            said = f"MAE {mae:,.0f} {unit}, {mae / float(sample['official'].abs().mean()):.0%}"
        large = bool(large) and (sample["kind"] == "proxy").all()
        check = f"large league error ({said}, n={n}) 与官方数据误差大" if large else ""
        out.append(
            {
                "indicator": key,
                "n": n,
                "mae": mae,
                "bias": bias,
                "spearman_rho": rho,
                "threshold": threshold,
                "large_error": large,
                "proxy_check": check,
            }
        )
    return pd.DataFrame(out)


def proxy_checks(table: pd.DataFrame) -> dict[str, str]:
    """Indicator id → flag text, for the indicators flagged ``large_error`` in ``table``.

    ``table`` is :func:`validate`'s result; an empty table flags nothing.
    """
    if table.empty:
        return {}
    flagged = table.drop_duplicates("indicator")
    flagged = flagged[flagged["large_error"]]
    return dict(zip(flagged["indicator"], flagged["proxy_check"], strict=True))


def with_proxy_checks(long: pd.DataFrame, checks: dict[str, str]) -> pd.DataFrame:
    """The long indicator table with a ``proxy_check`` column: the flag of every proxy row.

    Parameters
    ----------
    long : pandas.DataFrame
        Rows of :func:`geo.indicators.compute` (``indicator`` and ``official`` columns).
    checks : dict of str to str
        :func:`proxy_checks` of the run.

    Returns
    -------
    pandas.DataFrame
        A copy; ``proxy_check`` holds the flag text on the rows of a flagged indicator that
        are proxies, ``""`` elsewhere (an official value is never flagged).
    """
    out = long.copy()
    flag = out["indicator"].map(checks).fillna("")
    out["proxy_check"] = flag.where(~out["official"].astype(bool), "")
    return out


def wide_with_proxy_checks(wide: pd.DataFrame, checks: dict[str, str]) -> pd.DataFrame:
    """A wide indicator table with ``<id>_proxy_check`` beside each flagged indicator present.

    Parameters
    ----------
    wide : pandas.DataFrame
        One row per zone (``<id>`` columns, and ``<id>_basis`` where some value is official).
    checks : dict of str to str
        :func:`proxy_checks` of the run.

    Returns
    -------
    pandas.DataFrame
        A copy; the flag text on the rows whose value is a proxy, ``""`` on official ones.
    """
    out = wide.copy()
    for key, text in checks.items():
        if key not in out.columns:
            continue
        basis = out.get(f"{key}_basis")
        proxy = basis.isin(["proxy"]) if basis is not None else pd.Series(True, index=out.index)
        column = pd.Series(np.where(proxy, text, ""), index=out.index)
        out.insert(out.columns.get_loc(key) + 1, f"{key}_proxy_check", column)
    return out
