"""Progress to the dated targets: projections checked against an independent least-squares fit."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from geo.errors import DataError
from geo.progress import TARGETS, progress_table, read_official


def _series(indicator, zone, years, values, kind="official"):
    return pd.DataFrame(
        {"indicator": indicator, "zone": zone, "year": years, "value": values, "kind": kind}
    )


def _independent_interval(x, y, year, level=0.9):
    """Prediction interval from numpy's polyfit parameter covariance: s²(1 + gᵀ(XᵀX)⁻¹g)."""
    coef, cov = np.polyfit(x, y, 1, cov="unscaled")
    resid = y - np.polyval(coef, x)
    s2 = (resid**2).sum() / (len(x) - 2)
    g = np.array([year, 1.0])
    half = stats.t.ppf(0.5 + level / 2, len(x) - 2) * np.sqrt(s2 * (1 + g @ cov @ g))
    centre = np.polyval(coef, year)
    return coef[0], centre, centre - half, centre + half


def test_projection_equals_an_independent_least_squares_interval():
    years = np.arange(2015, 2025)
    rng = np.random.default_rng(5)
    values = 40 + 0.4 * (years - 2015) + rng.normal(0, 0.5, len(years))
    table = progress_table(_series("grassland_fvc_pct", "150000", years, values))
    row = table.set_index("target").loc["grassland_cover_2027"]
    slope, centre, low, high = _independent_interval(years.astype(float), values, 2027)
    assert row["slope_per_year"] == pytest.approx(slope, rel=1e-10)
    assert row["projected"] == pytest.approx(centre, rel=1e-10)
    assert row["projected_low"] == pytest.approx(low, rel=1e-10)
    assert row["projected_high"] == pytest.approx(high, rel=1e-10)
    assert row["latest_year"] == 2024 and row["latest_value"] == pytest.approx(values[-1])


@pytest.mark.parametrize(
    ("start", "rate", "status"),
    [(46.0, 0.1, "on_track"), (40.0, -0.3, "off_track"), (43.0, 0.2, "at_risk")],
)
def test_status_from_the_interval(start, rate, status):
    years = np.arange(2016, 2026)
    # alternate ±0.3 around the line: residual SD ~0.33, interval at 2027 about ±0.7
    values = start + rate * (years - 2016) + np.tile([0.3, -0.3], 5)
    table = progress_table(_series("grassland_fvc_pct", "z", years, values))
    assert table["status"].iloc[0] == status


def test_target_year_with_a_value_is_met_or_missed_and_kinds_stay_apart():
    official = _series("forest_cover_pct", "z", [2025, 2026, 2027], [21.0, 21.5, 22.0])
    proxy = _series("forest_cover_pct", "z", [2025, 2026, 2027], [5.0, 5.1, 5.2], kind="proxy")
    table = progress_table(pd.concat([official, proxy])).set_index("kind")
    assert table.loc["official", "status"] == "met"
    assert table.loc["proxy", "status"] == "missed"
    assert table.loc["official", "status_zh"] == "已达标"


def test_two_years_are_too_few():
    table = progress_table(_series("kongdui_swc_pct", "kd", [2023, 2024], [60.0, 61.0]))
    assert set(table["status"]) == {"too_few_years"}
    assert set(table["target"]) == {"kongdui_2030", "kongdui_2035"}


def test_targets_match_their_citations():
    from geo.citations import CITATIONS

    for target in TARGETS:
        cite = CITATIONS[target.key]
        assert f"{target.value:g}%" in cite.quote_zh and str(target.year) in cite.quote_zh


def test_official_file_errors_name_the_line(tmp_path):
    path = tmp_path / "official.csv"
    path.write_text(
        "indicator,zone,year,value,source\n"
        "forest_cover_pct,150000,2023,23.0,统计公报\n"
        "forest_cover_pct,150000,2024,二十三,统计公报\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"line 3: value '二十三' is not a number"):
        read_official(path)
    path.write_text("indicator,zone,value\nx,1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"lacks the column.*year"):
        read_official(path)
    path.write_text(
        "indicator,zone,year,value,source\nf,1,2023,1,a\nf,1,2023,2,b\n", encoding="utf-8"
    )
    with pytest.raises(DataError, match="given twice"):
        read_official(path)
