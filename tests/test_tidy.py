"""Tidy-ups of the review (session 6): one proxy check per report, one atomic writer, one
streamed land-cover read per zone set, explicit years for stacks, a glossary that says the basis.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.crs import EQUAL_AREA
from geo.errors import GeoWarning
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


# 2. downloads go through the toolkit's one atomic writer (geo.outputs.atomic_path)


class _Session:
    """A session whose every GET streams ``body`` (announcing 10 bytes more when ``short``).

    With ``folder``, the names in that folder are noted halfway through each body.
    """

    def __init__(self, body: bytes, *, short: bool = False, folder=None) -> None:
        self.body, self.short, self.folder = body, short, folder
        self.listings: list[list[str]] = []
        self.calls = 0

    def request(self, method, url, timeout=None, stream=False):
        self.calls += 1
        return _Response(self)


class _Response:
    def __init__(self, session: _Session) -> None:
        self.session = session
        self.status_code, self.reason = 200, "OK"
        self.headers = {"Content-Length": str(len(session.body) + 10 * session.short)}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def iter_content(self, size):
        body, folder = self.session.body, self.session.folder
        yield body[: len(body) // 2]
        if folder is not None:
            self.session.listings.append(sorted(p.name for p in folder.iterdir()))
        yield body[len(body) // 2 :]


@pytest.fixture
def no_backoff(monkeypatch):
    from geo.fetch import http

    monkeypatch.setattr(http, "BACKOFF", 0.0)
    return http


def test_download_writes_through_atomic_path_then_checks(tmp_path, no_backoff):
    import hashlib

    http = no_backoff
    dest = tmp_path / "item.tif"
    body = b"0123456789" * 100
    session = _Session(body, folder=tmp_path)
    assert (
        http.download(session, "https://x.test/item.tif", dest) == hashlib.sha256(body).hexdigest()
    )
    assert dest.read_bytes() == body
    # mid-download the bytes were under atomic_path's temporary name, which the leftover
    # cleaner of a killed fetch (``.*.part*``) removes
    (names,) = session.listings
    (temporary,) = [n for n in names if n != "item.tif"]
    assert re.fullmatch(r"\.item\..+\.part\.tif", temporary)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["item.tif"]


@pytest.mark.parametrize("case", ["checksum", "short"])
def test_failed_download_keeps_the_existing_file_and_leaves_nothing(tmp_path, no_backoff, case):
    from geo.errors import DataError

    http = no_backoff
    dest = tmp_path / "item.tif"
    dest.write_bytes(b"the user's file")
    session = _Session(b"new bytes", short=case == "short")
    expected = "sha256:" + "0" * 64 if case == "checksum" else None
    with pytest.raises(DataError, match=r"item\.tif"):
        http.download(session, "https://x.test/item.tif", dest, expected=expected)
    assert dest.read_bytes() == b"the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["item.tif"]
    assert session.calls == (http.ATTEMPTS if case == "short" else 1)


def test_download_into_an_unwritable_place_is_an_output_error(tmp_path, no_backoff):
    # a file where the folder should be: one clear OutputError naming the file, as every
    # other output of the toolkit (the old twin let a bare NotADirectoryError out)
    from geo.errors import OutputError

    (tmp_path / "work").write_text("a file, not a folder")
    dest = tmp_path / "work" / "item.tif"
    with pytest.raises(OutputError, match=r"item\.tif"):
        no_backoff.download(_Session(b"bytes"), "https://x.test/item.tif", dest)
    assert (tmp_path / "work").read_text() == "a file, not a folder"


# 3. LandCover reads the fine raster once per zone set (areas and grassland weights)

WEST, NORTH, CELL = 116.0, 43.9, 0.0003  # degrees, near Xilinhot
BEYOND = "reach beyond land-cover raster"


@pytest.fixture
def fine_landcover(tmp_path):
    """A tiled CLCD raster (16 × 16 blocks), an FVC layer and two zones, one partly beyond."""
    import numpy as np

    from geo import testing

    rng = np.random.default_rng(3)
    codes = rng.choice([1, 2, 3, 4, 4, 4, 5, 7], size=(70, 90)).astype("uint8")
    codes[:3, :5] = 0  # fill
    fine = testing.write_raster(
        tmp_path / "clcd.tif", codes, cell=CELL, origin=(WEST, NORTH), crs="EPSG:4326",
        nodata=0, tiled=True, blockxsize=16, blockysize=16,
    )  # fmt: skip
    fvc = rng.uniform(5, 90, (6, 8)).astype("float32")
    fvc[2, 3] = -1.0
    coarse = testing.write_raster(
        tmp_path / "fvc.tif", fvc, cell=0.0041, origin=(WEST - 0.001, NORTH + 0.001),
        crs="EPSG:4326", nodata=-1.0,
    )  # fmt: skip
    s = NORTH - 70 * CELL
    zones = testing.box_zones(
        {
            "a": (WEST + 0.0001, s + 0.0005, WEST + 0.0133, NORTH - 0.0002),
            "b": (WEST + 0.0131, s - 0.002, WEST + 0.03, NORTH - 0.004),  # beyond the south edge
        },
        crs="EPSG:4326",
    )
    return fine, coarse, ZoneSet.from_frame(zones, level="user")


def _reads_of(path, monkeypatch) -> list:
    """Record the windows read from ``path`` (every read of the toolkit goes through here)."""
    from rasterio.io import DatasetReader

    reads = []
    real = DatasetReader.read

    def read(self, *args, **kwargs):
        if Path(self.name).resolve() == Path(path).resolve():
            reads.append(kwargs.get("window"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DatasetReader, "read", read)
    return reads


def test_landcover_reads_the_fine_raster_once_per_zone_set(fine_landcover, monkeypatch):
    import numpy as np

    from geo import landcover, zonal

    fine, coarse, zones = fine_landcover
    lc = landcover.LandCover.open(fine, "clcd")
    reads = _reads_of(fine, monkeypatch)
    with zonal.set_options(window_cells=400), pytest.warns(GeoWarning, match=BEYOND):
        values, cells = lc.values(zones, coarse)  # many windows, some of them column pieces
    lc.values(zones, coarse)  # kept for the run: no further read
    # every cell of the raster read at most once, in several windows
    seen = np.zeros((70, 90), dtype=int)
    for w in reads:
        seen[w.row_off : w.row_off + w.height, w.col_off : w.col_off + w.width] += 1
    assert len(reads) > 4 and seen.max() == 1
    # the same numbers as the two reads of before: class areas, then grassland weights
    monkeypatch.undo()
    with zonal.set_options(window_cells=400):
        areas = landcover.class_areas(zones, fine, "clcd")
        mean = landcover.class_mean(zones, coarse, fine, "clcd")
    np.testing.assert_array_equal(values["grassland_area"], areas["grassland_area_km2"])
    np.testing.assert_array_equal(values["cropland_area"], areas["cropland_area_km2"])
    np.testing.assert_array_equal(values["forest_cover_pct"], areas["forest_cover_pct"])
    forest = areas["forest_area_km2"] + areas["shrub_forest_area_km2"]
    np.testing.assert_array_equal(values["forest_area"], forest)
    np.testing.assert_array_equal(cells["forest_cover_pct"], areas["cells"])
    np.testing.assert_allclose(values["grassland_fvc_pct"], mean["mean"], rtol=1e-12)
    np.testing.assert_allclose(cells["grassland_fvc_pct"], mean["cells"], rtol=1e-12)
    assert np.isfinite(values["grassland_fvc_pct"]).all() and (areas["outside_area_km2"] > 0).any()


def test_landcover_weights_from_column_pieces_equal_whole_rows(fine_landcover):
    # one window of whole rows against windows cut into block-wide column pieces
    import numpy as np

    from geo import landcover, zonal

    fine, coarse, zones = fine_landcover
    with zonal.set_options(window_cells=10_000_000), pytest.warns(GeoWarning, match=BEYOND):
        whole = landcover.LandCover.open(fine, "clcd").values(zones, coarse)[0]
    with zonal.set_options(window_cells=40), pytest.warns(GeoWarning, match=BEYOND):
        pieces = landcover.LandCover.open(fine, "clcd").values(zones, coarse)[0]
    for key, value in whole.items():
        np.testing.assert_allclose(pieces[key], value, rtol=1e-12, err_msg=key)


def test_stats_cli_with_landcover_reads_it_once(barrier, fine_landcover, tmp_path, monkeypatch):
    import numpy as np
    from rasterio.windows import Window

    fine, coarse, zones = fine_landcover
    path = tmp_path / "zones.gpkg"
    zones.frame.to_file(path)
    reads = _reads_of(fine, monkeypatch)
    out = tmp_path / "stats.csv"
    code, _, err = barrier(
        "stats", "--zones", path, "--id-field", "zone", "--layer", coarse,
        "--landcover", fine, "--landcover-scheme", "clcd", "--precision", "full", "-o", out,
    )  # fmt: skip
    assert code == 0, err
    assert "reach beyond land-cover raster" in err
    # the input check reads the last row (a truncated file fails there), then one streamed read
    # gives the areas and the grassland means
    assert reads[0] == Window(0, 69, 90, 1)
    seen = np.zeros((70, 90), dtype=int)
    for w in reads[1:]:
        seen[w.row_off : w.row_off + w.height, w.col_off : w.col_off + w.width] += 1
    assert seen.min() == seen.max() == 1
    monkeypatch.undo()
    from geo import landcover

    table = pd.read_csv(out)
    areas = landcover.class_areas(zones, fine, "clcd")
    mean = landcover.class_mean(zones, coarse, fine, "clcd")
    np.testing.assert_allclose(
        table["landcover_grassland_area_km2"], areas["grassland_area_km2"], rtol=1e-12
    )
    np.testing.assert_allclose(
        table[table.columns[table.columns.str.endswith("_grassland_mean")][0]],
        mean["mean"],
        rtol=1e-12,
    )


# 4. explicit years for a stack: Stack.open(folder, [2000, 2005]) and --years 2000,2005,2010-2012

STACK_YEARS = (2000, 2003, 2005, 2010, 2011, 2012, 2014)
EQUAL_AREA_M = "EPSG:6933"  # a 10 km cell is exactly 100 km²
ORIGIN = (10_300_000.0, 5_400_000.0)  # inside Inner Mongolia


@pytest.fixture
def year_folder(tmp_path):
    """A folder of yearly 6 × 8 rasters whose every cell holds the year (2000 …), and a zone."""
    import numpy as np

    from geo import testing

    folder = tmp_path / "ndvi"
    folder.mkdir()
    for year in STACK_YEARS:
        testing.write_raster(
            folder / f"ndvi_{year}.tif", np.full((6, 8), float(year), dtype="float32"),
            cell=10_000.0, origin=ORIGIN, crs=EQUAL_AREA_M, nodata=-9999.0,
        )  # fmt: skip
    x, y = ORIGIN
    zones = testing.box_zones(
        {"a": (x + 10_000, y - 50_000, x + 60_000, y - 10_000)}, crs=EQUAL_AREA_M
    )
    zones.to_file(tmp_path / "zone.gpkg")
    return folder, tmp_path / "zone.gpkg"


def test_stack_open_takes_an_explicit_sequence_of_years(year_folder):
    from geo.errors import UsageError
    from geo.stack import Stack

    folder, _ = year_folder
    assert Stack.open(folder, [2010, 2000, 2005]).years == (2000, 2005, 2010)
    assert Stack.open(folder, "2000,2005,2010-2012").years == (2000, 2005, 2010, 2011, 2012)
    assert Stack.open(folder, "2004-2011").years == (2005, 2010, 2011)  # a range: those held
    with pytest.raises(UsageError, match=r"stack .*ndvi: no layer for 2001, 2007"):
        Stack.open(folder, [2000, 2001, 2007])
    with pytest.raises(UsageError, match="whole years"):
        Stack.open(folder, [2000, 2005.5])


def test_series_cli_with_a_list_of_years(barrier, year_folder, tmp_path):
    folder, zone = year_folder
    out = tmp_path / "series"
    code, _, err = barrier(
        "series", "--zones", zone, "--stack", folder, "--years", "2000,2005,2010-2012",
        "--out", out, "--stat", "mean", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "series_user.csv")
    means = table[table["stat"] == "mean"].set_index("year")["value"]
    assert list(means.index) == [2000, 2005, 2010, 2011, 2012]
    assert list(means) == [2000.0, 2005.0, 2010.0, 2011.0, 2012.0]  # every cell holds its year


@pytest.mark.parametrize("command", ["series", "trend"])
@pytest.mark.parametrize(
    ("years", "why"),
    [
        ("2010-2000", "2010-2000 runs backwards"),
        ("20x0", "'20x0' is not a year"),
        ("2000,2007,2010", "no layer for 2007"),
        ("2000,2005,2005", "2005 is given twice"),
        ("2010,2000", "list them in order"),
        ("2000,", "'' is not a year"),
        ("1990-1995", "has no layer in 1990–1995"),
    ],
)
def test_bad_years_exit_2_naming_the_option_and_the_folder(
    barrier, year_folder, tmp_path, command, years, why
):
    folder, zone = year_folder
    out = tmp_path / "out"
    code, _, err = barrier(
        command, "--zones", zone, "--stack", folder, "--years", years, "--out", out, "--quiet"
    )
    assert code == 2 and err.count("\n") == 1, err
    assert why in err and "--years" in err and str(folder) in err
    assert not out.exists()


# 5. the glossary says per indicator the basis this report used


def _glossary_html(out) -> dict[str, str]:
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page.split('id="glossary"')[1].split("</ul>")[0]
    items = re.findall(r"<li><b>(\w+)</b>(.*?)</li>", section)
    return {key: html.unescape(re.sub(r"<[^>]+>", "", text)) for key, text in items}


def _glossary_docx(out) -> dict[str, str]:
    from docx import Document

    lines = [p.text for p in Document(str(out / "report.docx")).paragraphs]
    at = next(i for i, t in enumerate(lines) if "Indicators and their basis in this report" in t)
    return {t.split(" — ")[0]: t for t in lines[at + 1 :] if " — " in t}


def test_glossary_names_the_official_layer_and_the_proxies(forest_report, forest_file):
    from geo.indicators import INDICATORS

    out, _ = forest_report
    assert forest_file.name == "my_forest.gpkg"
    for said in (_glossary_html(out), _glossary_docx(out)):
        assert set(INDICATORS) <= set(said)
        for key in ("forest_area", "forest_cover_pct"):  # from --forest my_forest.gpkg
            basis = said[key].split(" — method: ")[0]
            assert "official layer my_forest.gpkg (--forest)" in basis
            assert "官方图层 my_forest.gpkg（--forest）" in basis
            assert "(official)" in basis and "proxy" not in basis
        for key in ("grassland_fvc_pct", "grassland_area", "sandified_pct", "sandified_area"):
            basis = said[key].split(" — method: ")[0]
            assert basis.endswith("remote-sensing proxy") and "official" not in basis
        assert "calibrated proxy (no --redline file given)" in said["redline_pct"]
        assert "not computed in this report" in said["treated_sandified_pct"]


def test_word_table_headers_say_official_where_the_values_are(forest_report):
    """With an official forest layer, the Word tables head the forest column "(official)"
    (its values are the layer's), while the grassland column stays a proxy."""
    from docx import Document

    out, _ = forest_report
    heads = [c.text for t in Document(str(out / "report.docx")).tables for c in t.rows[0].cells]
    forest = [h for h in heads if "Forest coverage rate" in h]
    grass = [h for h in heads if "植被覆盖度" in h]
    assert grass and all("遥感估算" in h for h in grass), grass
    assert "森林覆盖率（官方） [%] / Forest coverage rate (official) [%]" in forest, forest
    verdict = [h for h in forest if "目标判断" in h]  # the verdict on the official value
    assert verdict and all("（官方）" in h and "遥感估算" not in h for h in verdict), verdict
