"""Tidy-ups of the review (session 6): one proxy check per report, one atomic writer, one
streamed land-cover read per zone set, explicit years for stacks, a glossary that says the basis.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.crs import EQUAL_AREA
from geo.zoneset import ZoneSet

HOHHOT = "150100"


@pytest.fixture(scope="module")
def forest_file(tmp_path_factory):
    """An official forest layer: one 10 × 10 km square inside Hohhot (equal-area metres)."""
    geom = ZoneSet.load("league").equal_area.loc[HOHHOT]
    largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    p = shapely.ops.polylabel(largest, tolerance=1000.0)
    square = shapely.box(p.x, p.y, p.x + 10_000, p.y + 10_000)
    assert geom.contains(square)
    path = tmp_path_factory.mktemp("tidy-official") / "my_forest.gpkg"
    gpd.GeoDataFrame({"kind": ["forest"]}, geometry=[square], crs=EQUAL_AREA).to_file(path)
    return path


@pytest.fixture(scope="module")
def forest_report(tmp_path_factory, forest_file):
    """``barrier report --forest`` once for the module, counting the proxy checks it runs."""
    from geo import cli, validation

    calls = []
    real = validation.validate

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    out = tmp_path_factory.mktemp("tidy-report") / "report"
    cache = tmp_path_factory.mktemp("tidy-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(validation, "validate", counted)
        code = cli.main(
            ["report", "--quiet", "--out", str(out), "--cache", str(cache),
             "--forest", str(forest_file)]
        )  # fmt: skip
    assert code == 0
    return out, len(calls)


def _docx_tables(path) -> list[list[list[str]]]:
    from docx import Document

    return [[[c.text for c in row.cells] for row in t.rows] for t in Document(str(path)).tables]


# 1. the proxy check runs once per report and the three outputs show the same one


def test_proxy_check_computed_once_per_report(forest_report):
    _, calls = forest_report
    assert calls == 1


def test_proxy_check_same_in_tables_html_and_word(forest_report):
    out, _ = forest_report
    table = pd.read_csv(out / "tables" / "proxy_validation.csv", keep_default_na=False)
    stats = table.drop_duplicates("indicator").set_index("indicator")
    assert len(stats) >= 3
    # the values compared are those of the league table (computed beside the official figure)
    wide = pd.read_csv(out / "tables" / "indicators_league.csv", dtype={"adcode": str})
    league = table[table["level"] == "league"]
    for row in league.itertuples():
        mine = wide.loc[wide["adcode"] == str(row.adcode), row.indicator].iloc[0]
        assert row.computed == pytest.approx(mine, abs=0.06)
    # report.html: the statistics table of section 2b, one row per indicator
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page.split("id='s2b'")[1].split('id="s3"')[0]
    first = section.split("<tbody>")[1].split("</tbody>")[0]
    html_rows = [re.findall(r"<td>(.*?)</td>", r) for r in first.split("</tr>") if "<td>" in r]
    html_stats = {r[0]: r for r in html_rows}
    # report.docx: the statistics table of section 6b (headers ``Indicator``, ``n``, ``MAE`` …)
    word = next(t for t in _docx_tables(out / "report.docx") if t[0][-1].endswith("Proxy check"))
    word_stats = {r[0]: r for r in word[1:]}
    assert set(html_stats) == set(word_stats) == set(stats.index)
    for key, row in stats.iterrows():
        h, w = html_stats[key], word_stats[key]
        assert float(h[2].replace(",", "")) == pytest.approx(row["mae"], rel=1e-5, abs=0.006)
        assert float(w[2].replace(",", "")) == pytest.approx(row["mae"], rel=1e-5, abs=0.006)
        assert int(h[1]) == int(w[1]) == row["n"]
        assert h[6] == w[6] == row["proxy_check"]
    assert stats["proxy_check"].str.startswith("large league error").any()  # some flag shown
