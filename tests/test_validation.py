"""Proxies against the official league figures (geo.validation, report section 2b)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from geo.errors import DataError
from geo.indicators import INDICATORS
from geo.validation import OFFICIAL_COLUMNS, load_official, proxy_checks, summarise, validate


def _official(rows) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            dict.fromkeys(OFFICIAL_COLUMNS, "")
            | {"indicator": i, "level": lv, "adcode": a, "value": v, "unit": u, "year": 2020}
            for i, lv, a, v, u in rows
        ]
    )
    frame["value"] = frame["value"].astype(float)
    return frame


def _results(official_keys=()):
    league = pd.DataFrame(
        {
            "adcode": ["1", "2", "3", "4"],
            "forest_cover_pct": [25.0, 18.0, 35.0, 40.0],
            "sandified_area_km2": [700.0, 0.0, 0.0, 0.0],
            "redline_pct": [10.0, 0.0, 0.0, 0.0],
        }
    )
    long = pd.DataFrame(
        {
            "indicator": ["forest_cover_pct", "sandified_area_km2", "redline_pct"],
            "official": [k in official_keys for k in ("x", "y", "redline_pct")],
        }
    )
    return SimpleNamespace(wide={"league": league}, long={"league": long})


OFFICIAL = _official(
    [
        ("forest_cover_pct", "league", "1", 10.0, "%"),
        ("forest_cover_pct", "league", "2", 20.0, "%"),
        ("forest_cover_pct", "league", "3", 30.0, "%"),
        ("forest_cover_pct", "league", "4", 40.0, "%"),
        ("sandified_area_km2", "league", "1", 1000.0, "km2"),
        ("redline_pct", "league", "1", 64.18, "%"),
        ("forest_cover_pct", "province", "150000", 20.0, "%"),  # no province table: left out
    ]
)


def test_mae_bias_spearman_by_hand():
    table = validate(_results(), OFFICIAL)
    forest = table[table["indicator"] == "forest_cover_pct"]
    # errors 15, -2, 5, 0 → MAE 22/4 = 5.5, bias 18/4 = 4.5
    assert forest["error"].tolist() == [15.0, -2.0, 5.0, 0.0]
    assert forest["mae"].iloc[0] == pytest.approx(5.5)
    assert forest["bias"].iloc[0] == pytest.approx(4.5)
    # ranks of the computed values 2,1,3,4 vs 1,2,3,4: rho = 1 − 6·2 / (4·15) = 0.8
    assert forest["spearman_rho"].iloc[0] == pytest.approx(0.8)
    assert forest["spearman_rho"].iloc[0] == pytest.approx(
        spearmanr([25, 18, 35, 40], [10, 20, 30, 40]).statistic
    )
    assert forest["n"].iloc[0] == 4 and len(table) == 6
    assert forest["relative_error_pct"].tolist() == pytest.approx([150.0, -10.0, 50 / 3, 0.0])


def test_large_error_flags_by_threshold():
    table = validate(_results(), OFFICIAL)
    stats = summarise(table).set_index("indicator")
    assert stats.loc["forest_cover_pct", "large_error"]  # 5.5 > 5 points
    # |700 − 1000| = 300 km² = 30 % of the official 1000 km² > 25 %
    assert stats.loc["sandified_area_km2", "large_error"]
    assert "30%" in stats.loc["sandified_area_km2", "proxy_check"]
    assert np.isnan(stats.loc["redline_pct", "spearman_rho"])  # one unit: no rank correlation
    checks = proxy_checks(table)
    assert checks["forest_cover_pct"] == "large league error (MAE 5.5 points, n=4) 与官方数据误差大"
    # a small error is not flagged: MAE 4 points
    near = _official([("forest_cover_pct", "league", a, v, "%") for a, v in [("1", 21.0)]])
    assert not validate(_results(), near)["large_error"].any()


def test_official_layer_is_compared_but_not_flagged():
    """With an official red line (long table says official) the same error is not flagged."""
    table = validate(_results(official_keys=("redline_pct",)), OFFICIAL)
    red = table[table["indicator"] == "redline_pct"].iloc[0]
    assert red["kind"] == "official" and not red["large_error"] and red["proxy_check"] == ""
    assert "redline_pct" not in proxy_checks(table)
    assert proxy_checks(validate(_results(), OFFICIAL))["redline_pct"].startswith("large")


def test_shipped_official_figures_are_sourced():
    table = load_official()
    assert len(table) >= 10
    assert set(table["unit"]) <= {"%", "km2"}
    for row in table.itertuples():
        assert row.url.startswith("http") and row.quote and row.title, row
        assert row.indicator in INDICATORS or row.indicator == "sandified_area_km2", row
        assert 1990 < row.year <= 2026, row
    # the figures issue 17 quotes, where a source was found
    got = table.set_index(["indicator", "adcode"])["value"]
    assert got["forest_cover_pct", "150400"] == 35.6  # Chifeng
    assert got["grassland_fvc_pct", "150900"] == 36.4  # Ulanqab
    assert got["redline_pct", "152500"] == 64.18  # Xilingol
    # 4199万亩 of Horqin sandy land in Tongliao, 1 mu = 10000/15 m²
    assert got["sandified_area_km2", "150500"] == pytest.approx(4199e4 * 10000 / 15 / 1e6, abs=1)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("35.6,%", "about 35,%"), r"line 2: value 'about 35' is not a number"),
        (lambda t: t.replace(",%,", ",percent,", 1), r"line 2: unit 'percent' is not one of"),
        (lambda t: t + t.splitlines()[1] + "\n", r"a second figure for"),
        (lambda t: t.replace("quote,", "", 1), r"missing column"),
    ],
)
def test_bad_official_file_is_refused(tmp_path, edit, message):
    from geo.data import data_path

    text = data_path("official", "league_figures.csv").read_text(encoding="utf-8")
    path = tmp_path / "figures.csv"
    path.write_text(edit(text), encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        load_official(path)
    assert "figures.csv" in str(err.value)


def test_report_has_the_proxy_check_and_flags(cli_report):
    """``barrier report``: section 2b with the official figures, flags in the table headers."""
    page = (cli_report / "report.html").read_text(encoding="utf-8")
    assert "2b. Proxy check against official league figures" in page
    assert "64.18" in page and "Xilingol League" in page
    table = pd.read_csv(cli_report / "tables" / "proxy_validation.csv", dtype={"adcode": str})
    official = load_official()
    assert len(table) == len(official)  # every figure has its unit in the report's tables
    chifeng = table[(table["adcode"] == "150400") & (table["indicator"] == "forest_cover_pct")]
    assert chifeng["official"].iloc[0] == 35.6
    wide = pd.read_csv(cli_report / "tables" / "indicators_league.csv", dtype={"adcode": str})
    proxy = wide.loc[wide["adcode"] == "150400", "forest_cover_pct"].iloc[0]
    assert chifeng["computed"].iloc[0] == pytest.approx(proxy, abs=0.06)
    # the forest proxy misses plantations: flagged in the league table's header and in 2b
    league_section = page.split('id="s3"')[1].split('id="s4"')[0]
    assert "⚠ large league error (MAE" in league_section
    from docx import Document

    doc = Document(str(cli_report / "report.docx"))
    headers = [c.text for t in doc.tables for c in t.rows[0].cells]
    assert any("⚠ large league error" in h for h in headers)
    assert any(
        "Proxy check" in p.text or "遥感估算与盟市官方数据检验" in p.text for p in doc.paragraphs
    )


def test_long_table_and_workbook_carry_the_proxy_check(cli_report):
    """The flag reaches the tables a bureau pastes from: every proxy row of a flagged
    indicator in indicators_long.csv, and the comparison in the workbook."""
    import openpyxl

    checks = pd.read_csv(cli_report / "tables" / "proxy_validation.csv", keep_default_na=False)
    flagged = set(checks.loc[checks["proxy_check"] != "", "indicator"])
    assert "forest_cover_pct" in flagged
    long = pd.read_csv(cli_report / "tables" / "indicators_long.csv", keep_default_na=False)
    rows = long[long["indicator"].isin(flagged)]
    assert len(rows) and rows["proxy_check"].str.startswith("large league error (MAE").all()
    others = long[~long["indicator"].isin(flagged)]
    assert (others["proxy_check"] == "").all()
    wide = pd.read_csv(cli_report / "tables" / "indicators_league.csv", keep_default_na=False)
    at = list(wide.columns).index("forest_cover_pct")
    assert wide.columns[at + 1] == "forest_cover_pct_proxy_check"
    assert wide["forest_cover_pct_proxy_check"].str.startswith("large league error (MAE").all()
    book = openpyxl.load_workbook(cli_report / "tables" / "indicators.xlsx", read_only=True)
    assert "proxy_validation" in book.sheetnames
