"""The monitoring commands end to end on SYNTHETIC stacks with known trends and water areas:
``barrier trend``, ``series``, ``lakes`` and ``progress``, checked against exactextract,
scipy and hand values."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio

from geo import testing, trends

CRS = "EPSG:6933"  # equal-area: a 10 km cell is exactly 100 km²
CELL = 10_000.0
# covers Inner Mongolia in EPSG:6933 (97–126.5° E, 37–54° N)
ORIGIN = (9_350_000.0, 6_200_000.0)
SHAPE = (190, 290)
YEARS = range(2001, 2021)


@pytest.fixture(scope="module")
def synthetic_known_trend_stack(tmp_path_factory):
    """West of 110° E degrading 0.006/yr, east improving 0.008/yr, noise 0.02; a no-data
    corner; the years 2005 and 2012 missing in the south-east quarter."""
    folder = tmp_path_factory.mktemp("stack")
    rng = np.random.default_rng(0)
    x = ORIGIN[0] + CELL * (np.arange(SHAPE[1]) + 0.5)
    slope = np.where(x < 10_614_000, -0.006, 0.008)[None, :].repeat(SHAPE[0], 0)
    for k, year in enumerate(YEARS):
        values = 0.35 + slope * k + rng.normal(0, 0.02, SHAPE)
        values[:10, :10] = -9999
        if year in (2005, 2012):
            values[95:, 145:] = -9999
        testing.write_raster(
            folder / f"ndvi_{year}.tif", values.astype("float32"), cell=CELL, origin=ORIGIN,
            crs=CRS, nodata=-9999,
        )  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def trend_run(synthetic_known_trend_stack, tmp_path_factory):
    out = tmp_path_factory.mktemp("trend") / "out"
    code, _, err = testing.run_cli(
        "trend", "--zones", "league", "--stack", synthetic_known_trend_stack, "--out", out,
        "--quiet",
    )  # fmt: skip
    assert code == 0, err
    return out


def test_trend_rasters_equal_the_kernel_on_sampled_pixels(trend_run, synthetic_known_trend_stack):
    from scipy import stats

    pymk = pytest.importorskip("pymannkendall")
    layers = []
    for year in YEARS:
        with rasterio.open(synthetic_known_trend_stack / f"ndvi_{year}.tif") as src:
            layers.append(src.read(1, masked=True).astype("float64").filled(np.nan))
    cube = np.stack(layers)
    with (
        rasterio.open(trend_run / "trend_slope.tif") as s,
        rasterio.open(trend_run / "trend_p.tif") as p,
    ):
        slope, pval = s.read(1), p.read(1)
    years = np.array(list(YEARS), float)
    for r, c in [(50, 20), (150, 200), (120, 250), (100, 100)]:
        y = cube[:, r, c]
        ok = ~np.isnan(y)
        assert slope[r, c] == pytest.approx(stats.theilslopes(y[ok], years[ok])[0], rel=1e-6)
        assert pval[r, c] == pytest.approx(pymk.original_test(y).p, abs=1e-7)


def test_trend_zone_areas_match_exactextract(trend_run):
    from geo import zones

    table = pd.read_csv(trend_run / "trend_league.csv", dtype={"adcode": str}).set_index("adcode")
    leagues = zones.load("league")
    ref = testing.exact_reference(
        leagues, trend_run / "trend_class.tif", ["count", "unique", "frac"]
    )
    for i, adcode in enumerate(leagues.index):
        shares = dict(zip(ref["unique"].iloc[i], ref["frac"].iloc[i], strict=True))
        for code, word in ((1, "degrading"), (2, "stable"), (3, "improving")):
            expected = shares.get(code, 0.0) * ref["count"].iloc[i] * 100.0  # 100 km² cells
            assert table.loc[adcode, f"{word}_km2"] == pytest.approx(expected, rel=1e-5, abs=1e-3)
    # Alxa (west of 110° E) is degrading, Hulunbuir (east) improving
    assert table.loc["152900", "degrading_pct"] > 99
    assert table.loc["150700", "improving_pct"] > 99
    assert table.loc["152900", "mean_slope_per_year"] == pytest.approx(-0.006, abs=5e-4)


def test_trend_writes_battle_tables_map_and_manifest(trend_run, synthetic_known_trend_stack):
    files = {p.name for p in trend_run.iterdir()}
    assert {"trend_battle.csv", "trend_battle_part.csv", "trend_class.png"} <= files
    page = (trend_run / "trend_league.html").read_text(encoding="utf-8")
    assert "阿拉善盟" in page and '<script src="http' not in page  # a self-contained web map
    record = json.loads((trend_run / "manifest.json").read_text(encoding="utf-8"))
    stack_inputs = [i for i in record["inputs"] if i["role"] == "stack layer"]
    assert len(stack_inputs) == len(YEARS) and all(len(i["sha256"]) == 64 for i in stack_inputs)
    assert "proxy" in record["parameters"]["values"]
    assert "Mann-Kendall" in record["parameters"]["method"]
    with rasterio.open(trend_run / "trend_class.tif") as src:
        cls = src.read(1)
        assert src.tags()["years"] == "2001-2020"
    assert (cls[:10, :10] == trends.NO_DATA).all()


def test_series_by_command_equals_hand_means(synthetic_known_trend_stack, tmp_path):
    zones = testing.box_zones(
        {"a": (ORIGIN[0] + 200_000, ORIGIN[1] - 300_000, ORIGIN[0] + 250_000, ORIGIN[1] - 200_000)},
        crs=CRS,
    )
    zones.to_file(tmp_path / "box.gpkg")
    out = tmp_path / "series"
    code, _, err = testing.run_cli(
        "series", "--zones", tmp_path / "box.gpkg", "--stack", synthetic_known_trend_stack,
        "--out", out, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    # the XLSX keeps every digit (the CSV is rounded for people); row 2 holds labels
    table = pd.read_excel(out / "series_user.xlsx", sheet_name="series_user", skiprows=[1])
    assert len(table) == len(YEARS)
    with rasterio.open(synthetic_known_trend_stack / "ndvi_2010.tif") as src:
        block = src.read(1)[20:30, 20:25]  # the box: rows 20–29, columns 20–24
    got = table.set_index("year").loc[2010, "value"]
    assert got == pytest.approx(block.astype("float64").mean(), rel=1e-6)
    assert (out / "series_user.png").is_file() and (out / "series_user.xlsx").is_file()


def test_lakes_command_with_a_user_lake_file(tmp_path):
    lake = testing.box_zones({"testlake": (0, 10_000, 10_000, 20_000)}, crs=CRS, field="lake")
    lake["name_zh"], lake["name_en"] = "试验湖", "Test lake"
    lake.to_file(tmp_path / "lakes.gpkg")
    stack = tmp_path / "gsw"
    stack.mkdir()
    for year, n in zip(
        range(2000, 2012), [80, 82, 78, 81, 79, 80, 83, 77, 80, 80, 79, 50], strict=True
    ):
        grid = np.ones((20, 20), "uint8")
        box = np.ones(100, "uint8")
        box[:n] = 3
        grid[:10, :10] = box.reshape(10, 10)
        testing.write_raster(stack / f"gsw_{year}.tif", grid, cell=1000.0, crs=CRS)
    out = tmp_path / "lakes"
    code, _, err = testing.run_cli(
        "lakes", "--stack", stack, "--lakes", tmp_path / "lakes.gpkg", "--buffer-km", "0",
        "--baseline", "2000-2009", "--out", out, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "lakes.csv").set_index("year")
    assert table.loc[2011, "water_km2"] == pytest.approx(50.0)
    assert table.loc[2011, "warning"] == "yes / 是"  # 50 km² < 80 − 2 × 1.76 and a 37 % fall
    assert table.loc[2010, "warning"] == "no / 否"
    assert (out / "lakes.png").is_file()
    assert "试验湖" in (out / "lakes.html").read_text(encoding="utf-8")


def test_progress_command_keeps_official_and_proxy_apart(tmp_path):
    official = tmp_path / "official.csv"
    official.write_text(
        "indicator,zone,year,value,source\n"
        + "".join(
            f"grassland_fvc_pct,150000,{y},{44 + 0.5 * (y - 2018):.2f},统计公报\n"
            for y in range(2018, 2025)
        ),
        encoding="utf-8",
    )
    proxy = tmp_path / "proxy.csv"
    proxy.write_text(
        "indicator,zone,year,value,source\n"
        + "".join(f"grassland_fvc_pct,150000,{y},30,ndvi\n" for y in range(2018, 2025)),
        encoding="utf-8",
    )
    out = tmp_path / "progress"
    code, _, err = testing.run_cli(
        "progress", "--official", official, "--proxy", proxy, "--out", out
    )
    assert code == 0, err
    table = pd.read_csv(out / "progress.csv").set_index("kind")
    assert table.loc["official", "status"] == "on_track"  # 44 + 0.5/yr → 48.5 in 2027
    assert table.loc["proxy", "status"] == "off_track"
    assert table.loc["official", "projected"] == pytest.approx(48.5, abs=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trend", "--zones", "league", "--stack", "nowhere", "--out", "o"], "nowhere"),
        (["trend", "--zones", "league", "--stack", ".", "--out", "o", "--alpha", "2"], "--alpha"),
        (["series", "--zones", "league", "--stack", "x.tif", "--out", "o"], "x.tif"),
        (["progress", "--out", "o"], "--official"),
    ],
)
def test_bad_monitoring_input_is_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = testing.run_cli(*args)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


def test_series_web_map_has_a_year_slider_with_every_year(synthetic_known_trend_stack, tmp_path):
    out = tmp_path / "series"
    code, _, err = testing.run_cli(
        "series", "--zones", "league", "--stack", synthetic_known_trend_stack, "--out", out,
        "--quiet",
    )  # fmt: skip
    assert code == 0, err
    page = (out / "series_league.html").read_text(encoding="utf-8")
    assert "geo-year" in page and '<script src="http' not in page  # self-contained
    years = json.loads(page.split("var Y = ", 1)[1].split(", C = ", 1)[0])
    assert years == list(YEARS)
    colours = json.loads(page.split(", C = ", 1)[1].split(";", 1)[0])
    assert len(colours) == len(YEARS) and len(colours[0]) == 12
    # the trends of the synthetic stack move leagues across classes between 2001 and 2020
    assert colours[0] != colours[-1]


def test_sdg_trajectory_periods(synthetic_known_trend_stack, tmp_path):
    from geo.trendmaps import trajectory_classes

    z = np.array([-3.0, -2.0, -1.7, 0.0, 1.7, 1.97, 2.6, np.nan])
    assert trajectory_classes(z).tolist() == [-3, -2, -1, 0, 1, 2, 3, -32]
    out = tmp_path / "sdg"
    code, _, err = testing.run_cli(
        "trend", "--zones", "league", "--stack", synthetic_known_trend_stack, "--out", out,
        "--sdg-baseline", "2001-2015", "--sdg-reporting", "2006-2020", "--no-battles", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(out / "sdg_trajectory_league.csv", dtype={"adcode": str})
    alxa = table.set_index("adcode").loc["152900"]
    # west of 110° E declines by 0.006/yr in both periods (15 years, noise 0.02): nearly all
    # of Alxa degraded in both, so the change is small; the east improves, never degraded
    assert alxa["baseline_degraded_pct"] > 95 and alxa["reporting_degraded_pct"] > 95
    assert abs(alxa["change_degraded_pts"]) < 5
    assert table.set_index("adcode").loc["150700", "reporting_degraded_pct"] == 0
    with rasterio.open(out / "trajectory_reporting.tif") as src:
        assert src.tags()["period"] == "2006-2020"
    code, _, err = testing.run_cli(
        "trend", "--zones", "league", "--stack", synthetic_known_trend_stack, "--out", out,
        "--sdg-baseline", "2001-2003", "--sdg-reporting", "2009-2020",
    )  # fmt: skip
    assert code == 2 and "holds 3 year(s)" in err


def test_report_with_stack_water_and_official(
    synthetic_known_trend_stack, trend_run, tmp_path, monkeypatch
):
    """``barrier report --stack --official``: the monitoring folders hold the same numbers as
    the standalone commands, the progress bar counts the steps, the manifest lists the files;
    each layer of the stack is hashed once for the run (the trend and series jobs each
    hashed the whole stack for their manifests)."""
    import argparse

    from geo import data
    from geo.cli import report as report_command

    hashed: list = []
    digest = data._file_digest
    monkeypatch.setattr(
        data, "_file_digest", lambda path, chunk: hashed.append(Path(path)) or digest(path, chunk)
    )

    official = tmp_path / "official.csv"
    official.write_text(
        "indicator,zone,year,value,source\n"
        + "".join(
            f"forest_cover_pct,150000,{y},{21 + 0.1 * (y - 2018):.2f},公报\n"
            for y in range(2018, 2025)
        ),
        encoding="utf-8",
    )
    out = tmp_path / "rep"
    args = ["--out", str(out), "--stack", f"ndvi={synthetic_known_trend_stack}",
            "--official", str(official), "--tables-only"]  # fmt: skip
    code, _, err = testing.run_cli("report", *args)
    assert code == 0, err
    layers = sorted(p for p in hashed if p.parent == Path(synthetic_known_trend_stack))
    assert layers == sorted(Path(synthetic_known_trend_stack).glob("*.tif"))
    parsed = argparse.Namespace(
        stack=[f"ndvi={synthetic_known_trend_stack}"], water=None, correction=None, zones=None,
        tables_only=True, pdf=False,
    )  # fmt: skip
    steps = [line for line in (out / "report.log").read_text(encoding="utf-8").splitlines() if line]
    assert len(steps) == report_command.step_count(parsed)
    ours = pd.read_csv(
        out / "monitoring" / "trend_ndvi" / "trend_league.csv", dtype={"adcode": str}
    )
    alone = pd.read_csv(trend_run / "trend_league.csv", dtype={"adcode": str})
    pd.testing.assert_frame_equal(ours, alone)
    sheet = pd.read_csv(out / "monitoring" / "progress" / "progress.csv")
    # an exact line 21 + 0.1/yr from 2018: 21.9 % in 2027, no residual spread, below 21.98 %
    assert sheet["projected"].iloc[0] == pytest.approx(21.9, abs=1e-6)
    assert sheet["status"].iloc[0] == "off_track"
    record = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "monitoring/trend_ndvi/trend_class.tif" in record["files"]
    assert any(i["role"] == "official series" for i in record["inputs"])


def test_monitoring_section_of_the_report_page(trend_run, tmp_path):
    from geo.monitor import JobOutput
    from geo.reportmonitor import monitoring_section

    table = pd.read_csv(trend_run / "trend_league.csv", dtype={"adcode": str})
    job = JobOutput(trend_run, {"trend_league": table}, sorted(trend_run.iterdir()))
    seen = []
    page = monitoring_section(
        trend_run.parent,
        {"trend_ndvi": job},
        lambda p, c: seen.append((p.name, c)) or "<fig>",
        lambda frame, cols, heads, digits: f"<table>{len(frame)} rows {cols[3]}</table>",
    )
    assert "11. Monitoring over time" in page and "12 rows improving_pct" in page
    assert seen == [("trend_class.png", ("ndvi 趋势分类（遥感估算）", "ndvi: trend class (proxy)"))]
    assert "trend_slope.tif" in page and "Remote-sensing proxies" in page


def test_trend_of_too_short_a_stack_is_refused_before_any_work(tmp_path):
    folder = tmp_path / "short"
    folder.mkdir()
    for year in (2020, 2021, 2022):
        testing.write_raster(folder / f"ndvi_{year}.tif", np.ones((4, 4), "float32"), crs=CRS)
    code, _, err = testing.run_cli(
        "trend", "--zones", "league", "--stack", folder, "--out", tmp_path / "o"
    )
    assert code == 2 and "holds 3 year(s)" in err and "--min-years" in err
    assert not (tmp_path / "o").exists()
