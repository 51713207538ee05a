"""Outputs never lose the user's data, never hold a live formula, and record every input.

Every case goes through the ``barrier`` command (``geo.cli.main``): exit code 2 with one line
naming the folder or file and what to do, nothing of the user's deleted or overwritten — or
exit 0 with a one-line warning where carrying on is right.
"""

import csv
import hashlib
import json
import shutil

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import rasterio
import shapely

from geo import boundaries, cli, vectors
from geo.errors import GeoWarning

SHIPPED_NDVI = boundaries.data_path("rasters", "ndvi_maximum_bess_0p05deg_im.tif")
MEMBERSHIP = boundaries.data_path("zones", "battle_zones.csv")
TOOL = "barrier (geo-barrier)"

#: Names a spreadsheet would run as formulas (OWASP CSV injection), one per leading character.
EVIL = ["=1+2", "+3+4", "-5+6", "@SUM(1+1)", "\t=7+8", "\r=9+1"]


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _one_error(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"barrier {command}: error:"), err
    assert "Traceback" not in err
    return lines[0]


def _snapshot(folder) -> dict:
    """Every file under ``folder`` with its content hash (to prove nothing changed)."""
    return {
        p.relative_to(folder).as_posix(): _sha(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _boxes(names, ids=None):
    """Zones inside Inner Mongolia, one 1°×1° box per name."""
    ids = ids or [f"z{i}" for i in range(len(names))]
    boxes = [shapely.box(110 + i, 41, 111 + i, 42) for i in range(len(names))]
    return gpd.GeoDataFrame(
        {"zone": ids, "name_zh": names, "name_en": names}, geometry=boxes, crs=4326
    )


def _negative_ndvi(path):
    """The shipped NDVI maximum, negated: every zone mean is a negative number."""
    with rasterio.open(SHIPPED_NDVI) as src:
        profile, array, nodata = src.profile, src.read(1), src.nodata
    valid = array != nodata if nodata is not None else np.ones(array.shape, bool)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.where(valid, -np.abs(array), array).astype(array.dtype), 1)
    return path


def _our_report(folder, *names):
    """An earlier barrier output folder: the files and a manifest listing them."""
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"old {name}")
    record = {"tool": TOOL, "outputs": [{"path": n} for n in names]}
    (folder / "manifest.json").write_text(json.dumps(record))
    return folder


# ---------------------------------------------------------------- 1. data loss: report --out


def test_report_refuses_a_folder_of_user_files(barrier, tmp_path):
    thesis = tmp_path / "thesis_folder"
    thesis.mkdir()
    (thesis / "chapter1.docx").write_text("three months of work")
    (thesis / "figures").mkdir()
    (thesis / "figures" / "map.png").write_bytes(b"\x89PNG")
    before = _snapshot(thesis)
    code, _, err = barrier("report", "--out", thesis, "--quiet", "--tables-only")
    assert code == 2
    line = _one_error(err, "report")
    assert str(thesis) in line and "choose an empty or new folder" in line
    assert _snapshot(thesis) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis_folder"]


def test_default_report_folder_of_the_user_is_kept(barrier, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "my_report.docx").write_text("the user's own report")
    code, _, err = barrier("report", "--quiet", "--tables-only")
    assert code == 2 and "my_report.docx" in _one_error(err, "report")
    assert (tmp_path / "report" / "my_report.docx").read_text() == "the user's own report"


@pytest.mark.parametrize("where", [".", "", "cwd_parent", "home", "project", "root"])
def test_report_never_replaces_protected_folders(barrier, tmp_path, monkeypatch, where):
    work = tmp_path / "parent" / "work"
    home = tmp_path / "home"
    project = tmp_path / "project"
    for folder in (work, home, project):
        folder.mkdir(parents=True)
        (folder / "data.csv").write_text("the user's data")
        # a manifest of ours does not make these folders replaceable
        record = {"tool": TOOL, "outputs": [{"path": "data.csv"}]}
        (folder / "manifest.json").write_text(json.dumps(record))
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    out = {"cwd_parent": "..", "home": "~", "project": str(project), "root": "/"}.get(where, where)
    before = _snapshot(tmp_path)
    code, _, err = barrier("report", "--out", out, "--quiet", "--tables-only")
    assert code == 2
    line = _one_error(err, "report")
    assert "empty" in line  # "choose an empty or new folder", "not an empty string"
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "parent", "project"]


def test_report_refuses_its_own_folder_once_the_user_added_a_file(barrier, tmp_path):
    out = _our_report(tmp_path / "report", "tables/indicators_league.csv")
    (out / "tables" / "my_notes.txt").write_text("notes the user keeps beside the tables")
    code, _, err = barrier("report", "--out", out, "--quiet", "--tables-only")
    assert code == 2 and "my_notes.txt" in _one_error(err, "report")
    assert (out / "tables" / "my_notes.txt").exists()


def test_report_replaces_its_own_folder(barrier, tmp_path):
    out = _our_report(tmp_path / "report", "tables/old_table.csv")
    (out / "tables" / ".DS_Store").write_bytes(b"\0")  # left by a file browser: not the user's
    code, _, err = barrier(
        "report", "--out", out, "--quiet", "--tables-only", "--cache", tmp_path / "c"
    )
    assert code == 0, err
    assert not (out / "tables" / "old_table.csv").exists()
    record = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    # the new manifest lists every file of the folder: a second run may replace it again
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk <= set(record["files"]) | {"report.log"}
    code, _, err = barrier(
        "report", "--out", out, "--quiet", "--tables-only", "--cache", tmp_path / "c"
    )
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "report"]


def test_killed_swap_puts_the_old_folder_back(barrier, tmp_path):
    # a run killed between "old → trash" and "new → folder": the folder is missing and the
    # previous content sits only in the dead run's trash folder
    trash = tmp_path / ".report.old-999999999-abc"
    (trash / "report").mkdir(parents=True)
    (trash / "report" / "thesis.docx").write_text("the only copy")
    stage = tmp_path / ".report.staging-999999999-def"
    stage.mkdir()
    (stage / "half.csv").write_text("half")
    out = tmp_path / "report"
    code, _, err = barrier("report", "--out", out, "--quiet", "--tables-only")
    # put back where it was; then refused, since it is not a report of ours
    assert code == 2 and "thesis.docx" in _one_error(err, "report")
    assert (out / "thesis.docx").read_text() == "the only copy"
    assert not stage.exists()


def test_killed_swap_restores_our_old_report_then_replaces_it(barrier, tmp_path):
    old = _our_report(tmp_path / ".report.old-999999999-abc" / "report", "tables/a.csv")
    out = tmp_path / "report"
    code, _, err = barrier(
        "report", "--out", out, "--quiet", "--tables-only", "--cache", tmp_path / "c"
    )
    assert code == 0, err
    assert (out / "tables" / "indicators_league.csv").exists() and not old.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "report"]


def test_output_file_that_is_a_folder_is_refused_before_work(barrier, tmp_path):
    folder = tmp_path / "result.csv"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    for argv in (
        ["stats", "--zones", "league", "--layer", "ndvi", "-o", folder],
        ["map", "--zones", "league", "--indicator", "grassland_fvc_pct", "-o", folder],
        ["change", "--zones", "league", "--before", SHIPPED_NDVI, "--after", SHIPPED_NDVI,
         "-o", folder],
    ):  # fmt: skip
        code, _, err = barrier(*argv)
        assert code == 2 and "is a folder" in _one_error(err, argv[0])
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("command", ["stats", "map", "change"])
def test_empty_output_name_is_a_usage_error(barrier, command):
    argv = {
        "stats": ["stats", "--zones", "league", "--layer", "ndvi"],
        "map": ["map", "--zones", "league", "--indicator", "grassland_fvc_pct"],
        "change": ["change", "--zones", "league", "--before", SHIPPED_NDVI, "--after",
                   SHIPPED_NDVI],
    }[command]  # fmt: skip
    code, out, err = barrier(*argv, "-o", "")
    assert code == 2 and "empty" in _one_error(err, command) and out == ""


# ------------------------------------------------------------- 2. an output that is an input


def test_output_equal_to_an_input_is_refused(barrier, tmp_path):
    zones = tmp_path / "z.gpkg"
    _boxes(["a", "b"]).to_file(zones)
    shp = tmp_path / "z.shp"
    _boxes(["a", "b"]).to_file(shp)
    member = tmp_path / "m.csv"
    shutil.copy(MEMBERSHIP, member)
    layer = tmp_path / "x.tif"
    shutil.copy(SHIPPED_NDVI, layer)
    before = _snapshot(tmp_path)
    cases = [
        ["stats", "--zones", zones, "--layer", "ndvi", "-o", zones, "--format", "csv"],
        ["stats", "--zones", "battle", "--membership", member, "--layer", "ndvi", "-o", member],
        ["stats", "--zones", "league", "--layer", layer, "-o", layer, "--format", "csv"],
        ["stats", "--zones", shp, "--layer", "ndvi", "-o", tmp_path / "z.dbf", "--format", "csv"],
        ["change", "--zones", "league", "--before", layer, "--after", SHIPPED_NDVI, "-o", layer,
         "--format", "csv"],
        ["map", "--zones", zones, "--indicator", "grassland_fvc_pct", "-o", zones],
    ]  # fmt: skip
    for argv in cases:
        code, _, err = barrier(*argv)
        assert code == 2 and "is also an input" in _one_error(err, argv[0]), argv
    assert _snapshot(tmp_path) == before


def test_report_folder_holding_an_input_is_refused(barrier, tmp_path):
    out = _our_report(tmp_path / "report", "mine.tif")
    shutil.copy(SHIPPED_NDVI, out / "mine.tif")  # e.g. a layer kept in an older report folder
    before = _snapshot(out)
    code, _, err = barrier(
        "report", "--out", out, "--layer", out / "mine.tif", "--quiet", "--tables-only"
    )
    assert code == 2 and "mine.tif" in _one_error(err, "report")
    assert _snapshot(out) == before
    code, _, err = barrier(
        "report", "--out", out, "--cache", out / "cache", "--quiet", "--tables-only"
    )
    assert code == 2 and "cache" in _one_error(err, "report")


# ------------------------------------------------------- 3 and 4. formulas, control characters


def _csv_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_stats_csv_defuses_formulas_and_keeps_numbers(barrier, tmp_path):
    zones = tmp_path / "evil.gpkg"
    _boxes(EVIL, ids=[f"{c}id{i}" for i, c in enumerate("=+-@=+")]).to_file(zones)
    clean = tmp_path / "clean.gpkg"
    _boxes([f"n{i}" for i in range(len(EVIL))]).to_file(clean)
    layer = _negative_ndvi(tmp_path / "neg.tif")
    code, _, err = barrier("stats", "--zones", zones, "--layer", layer, "-o", tmp_path / "e.csv")
    assert code == 0, err
    code, _, err = barrier("stats", "--zones", clean, "--layer", layer, "-o", tmp_path / "c.csv")
    rows, ref = _csv_rows(tmp_path / "e.csv"), _csv_rows(tmp_path / "c.csv")
    for row, name in zip(rows, EVIL, strict=True):
        # the zone reader cleans names first (tabs and line breaks to spaces, ends stripped);
        # what still starts like a formula is defused
        loaded = vectors.clean_text(name)
        assert row["name_zh"] == ("'" + loaded if loaded[:1] in "=+-@" else loaded)
        assert row["zone"].startswith("'")
    # numbers are untouched: negative means stay numbers, equal to those of the clean run
    means = [float(r["neg_mean"]) for r in rows]
    assert all(m < 0 for m in means)
    assert means == [float(r["neg_mean"]) for r in ref]
    # the same table on standard output (often redirected into a .csv) is defused too
    code, out, _ = barrier("stats", "--zones", zones, "--layer", layer)
    assert code == 0 and "\n=1+2" not in out and ",=1+2" not in out and "'=1+2" in out


def test_stats_xlsx_stores_text_not_formulas(barrier, tmp_path):
    zones = tmp_path / "evil.gpkg"
    _boxes(EVIL, ids=[f'=HYPERLINK("http://x/{i}")' for i in range(len(EVIL))]).to_file(zones)
    layer = _negative_ndvi(tmp_path / "neg.tif")
    out = tmp_path / "s.xlsx"
    code, _, err = barrier("stats", "--zones", zones, "--layer", layer, "-o", out)
    assert code == 0, err
    sheet = openpyxl.load_workbook(out).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = [c.value for c in next(sheet.iter_cols(min_col=2, min_row=2))]
    assert names[:4] == EVIL[:4]  # the literal text, no quote added in a workbook
    ids = [c.value for c in next(sheet.iter_cols(min_col=1, min_row=2))]
    assert ids[0] == '=HYPERLINK("http://x/0")'
    header = [c.value for c in sheet[1]]
    means = [c.value for c in next(sheet.iter_cols(min_col=header.index("neg_mean") + 1))][1:]
    assert all(isinstance(m, float) and m < 0 for m in means)


def test_control_characters_in_names_are_removed_with_a_warning(barrier, tmp_path):
    pasted = ["Ordos\x0bnorth", "Hulun\x0cBuir", "Alxa\x01", "Xilin\x1fGol", "Chifeng\x7f"]
    zones = tmp_path / "pasted.geojson"
    _boxes(pasted).to_file(zones)
    out = tmp_path / "s.xlsx"
    code, _, err = barrier("stats", "--zones", zones, "--layer", "ndvi_max", "-o", out)
    assert code == 0, err
    warned = [line for line in err.splitlines() if "warning" in line]
    assert len(warned) == 1 and "pasted.geojson" in warned[0] and "control characters" in warned[0]
    assert "feature(s) 1, 2, 3, 4, 5" in warned[0]  # the features concerned, by row
    sheet = openpyxl.load_workbook(out).active
    names = [c.value for c in next(sheet.iter_cols(min_col=2, min_row=2))]
    assert names == ["Ordosnorth", "HulunBuir", "Alxa", "XilinGol", "Chifeng"]
    code, _, err = barrier(
        "stats", "--zones", zones, "--layer", "ndvi_max", "-o", tmp_path / "s.csv"
    )
    assert code == 0 and [r["name_en"] for r in _csv_rows(tmp_path / "s.csv")] == names


# ------------------------------------------------------------------------ 5. provenance


def _inputs(record) -> dict:
    return {i["path"]: i["sha256"] for i in record["inputs"]}


def test_stats_manifest_records_zone_file_with_sidecars_layer_and_band(barrier, tmp_path):
    shp = tmp_path / "mine.shp"
    _boxes(["a", "b"]).to_file(shp)
    two = tmp_path / "two_bands.tif"
    with rasterio.open(SHIPPED_NDVI) as src:
        profile, array = src.profile, src.read(1)
    profile.update(count=2)
    with rasterio.open(two, "w", **profile) as dst:
        dst.write(np.stack([array, array]))
    out = tmp_path / "s.csv"
    code, _, err = barrier("stats", "--zones", shp, "--layer", two, "-o", out)
    assert code == 0, err
    record = json.loads((tmp_path / "s.csv.manifest.json").read_text(encoding="utf-8"))
    inputs = _inputs(record)
    for suffix in (".shp", ".dbf", ".shx", ".prj", ".cpg"):
        path = shp.with_suffix(suffix)
        assert inputs[str(path)] == _sha(path), suffix
    assert inputs[str(two)] == _sha(two)
    assert record["parameters"]["zones_layer"] == "mine"
    (layer,) = record["parameters"]["layers"]
    assert layer["path"] == str(two) and layer["band"] == 1 and layer["bands_in_file"] == 2
    assert record["outputs"] == [{"path": "s.csv", "sha256": _sha(out)}]


def test_stats_manifest_records_membership_and_zones_layer(barrier, tmp_path):
    member = tmp_path / "m.csv"
    shutil.copy(MEMBERSHIP, member)
    code, _, err = barrier(
        "stats", "--zones", "battle", "--membership", member, "--layer", "ndvi",
        "-o", tmp_path / "s.csv",
    )  # fmt: skip
    assert code == 0, err
    record = json.loads((tmp_path / "s.csv.manifest.json").read_text(encoding="utf-8"))
    assert _inputs(record)[str(member)] == _sha(member)
    gpkg = tmp_path / "two_layers.gpkg"
    _boxes(["a"]).to_file(gpkg, layer="first")
    _boxes(["b", "c"]).to_file(gpkg, layer="second")
    code, _, err = barrier(
        "stats", "--zones", gpkg, "--zones-layer", "second", "--layer", "ndvi",
        "-o", tmp_path / "t.csv",
    )  # fmt: skip
    assert code == 0, err
    record = json.loads((tmp_path / "t.csv.manifest.json").read_text(encoding="utf-8"))
    assert record["parameters"]["zones_layer"] == "second"
    assert _inputs(record)[str(gpkg)] == _sha(gpkg)


def test_change_writes_a_manifest(barrier, tmp_path):
    before = tmp_path / "before.tif"
    shutil.copy(SHIPPED_NDVI, before)
    after = _negative_ndvi(tmp_path / "after.tif")
    zones = tmp_path / "z.geojson"
    _boxes(["a", "b"]).to_file(zones)
    out = tmp_path / "c.csv"
    code, _, err = barrier(
        "change", "--zones", zones, "--before", before, "--after", after, "-o", out
    )
    assert code == 0, err
    record = json.loads((tmp_path / "c.csv.manifest.json").read_text(encoding="utf-8"))
    assert record["tool"] == TOOL and record["parameters"]["command"] == "change"
    inputs = _inputs(record)
    for path in (before, after, zones):
        assert inputs[str(path)] == _sha(path)
    assert record["outputs"] == [{"path": "c.csv", "sha256": _sha(out)}]


# ------------------------------------------------- the report: formulas, names, provenance


@pytest.fixture(scope="module")
def evil_report(tmp_path_factory):
    """One quick report run with hostile zone names, a further layer and own membership."""
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("evil")
    zones = tmp / "evil.gpkg"
    names = [*EVIL, "Ordos\x0bnorth"]
    _boxes(names, ids=[f"={i}+1" for i in range(len(names))]).to_file(zones)
    # a shipped class layer: a continuous --layer file is refused by the report today (another
    # item of the issue); the record is the same for any layer file
    layer = boundaries.data_path("rasters", "koppen_geiger_simplified_1km_im.tif")
    member = tmp / "m.csv"
    shutil.copy(MEMBERSHIP, member)
    out = tmp / "rep"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(
            [
                "report", "--zones", str(zones), "--layer", "climate", "--membership",
                str(member), "--tables-only", "--quiet", "--out", str(out),
                "--cache", str(tmp / "cache"),
            ]
        )  # fmt: skip
    return {"code": code, "err": err.getvalue(), "out": out, "zones": zones, "layer": layer,
            "member": member}  # fmt: skip


def test_report_tables_defuse_formulas(evil_report):
    assert evil_report["code"] == 0, evil_report["err"]
    tables = evil_report["out"] / "tables"
    said = [r for r in _csv_rows(tables / "sentences.csv") if r["level"] == "user"]
    assert said and all(r["zh"].startswith("'") or r["zh"][0] not in "=+-@\t\r" for r in said)
    first = [r for r in said if r["id"] == "'=0+1"]
    assert first and first[0]["en"].startswith("'=1+2")
    user = _csv_rows(tables / "indicators_user.csv")
    assert [r["zone"] for r in user][:2] == ["'=0+1", "'=1+1"]
    assert all(not r["name_zh"].startswith(("=", "+", "-", "@")) for r in user)
    book = openpyxl.load_workbook(tables / "indicators.xlsx")
    formulas = [
        (ws.title, c.coordinate)
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    assert formulas == []
    names = [c.value for c in next(book["user"].iter_cols(min_col=2, min_row=3))]
    assert names[:4] == EVIL[:4] and names[-1] == "Ordosnorth"


def test_report_warns_once_about_control_characters(evil_report):
    warned = [line for line in evil_report["err"].splitlines() if "control characters" in line]
    assert len(warned) == 1 and "evil.gpkg" in warned[0]


def test_report_manifest_records_every_input(evil_report):
    record = json.loads((evil_report["out"] / "manifest.json").read_text(encoding="utf-8"))
    inputs = _inputs(record)
    for key in ("zones", "layer", "member"):
        path = evil_report[key].absolute()
        assert inputs[str(path)] == _sha(path), key
    gpkg = boundaries.data_path("boundaries", "im_admin_wgs84.gpkg")
    assert inputs[str(gpkg.absolute())] == _sha(gpkg)
    (layer,) = record["parameters"]["layers"]
    assert layer["path"] == str(evil_report["layer"].absolute()) and layer["band"] == 1
    assert record["parameters"]["zones_file"]["layer"] == "evil"
    roles = {i["path"]: i["role"] for i in record["inputs"]}
    assert roles[str(evil_report["member"])] == "membership"


def test_report_gpkg_and_parquet_keep_the_literal_names(evil_report):
    tables = evil_report["out"] / "tables"
    user = gpd.read_file(tables / "indicators.gpkg", layer="user")
    assert list(user.name_zh)[:4] == EVIL[:4] and list(user.name_zh)[-1] == "Ordosnorth"
    parquet = pd.read_parquet(tables / "indicators_user.parquet")
    assert parquet.zone.iloc[0] == "=0+1"


def test_map_writes_a_manifest(barrier, tmp_path):
    zones = tmp_path / "z.geojson"
    _boxes(["a", "b"]).to_file(zones)
    out = tmp_path / "m.html"
    code, _, err = barrier(
        "map", "--zones", zones, "--indicator", "grassland_fvc_pct", "--offline",
        "-o", out,
    )  # fmt: skip
    assert code == 0, err
    record = json.loads((tmp_path / "m.html.manifest.json").read_text(encoding="utf-8"))
    inputs = _inputs(record)
    assert inputs[str(zones)] == _sha(zones)
    ndvi = boundaries.data_path("rasters", "ndvi_maximum_bess_0p05deg_im.tif").absolute()
    assert inputs[str(ndvi)] == _sha(ndvi)
    assert record["outputs"] == [{"path": "m.html", "sha256": _sha(out)}]


def test_writers_defuse_text_that_reaches_them_raw(tmp_path):
    """Text not read through the zone reader (sentences, user attributes) is defused too."""
    from geo.tables import write_csv, write_table

    table = pd.DataFrame({"name": ["\t=7+8", "\r=9+1", "-x", "ok"], "value": [-1.5, 2, -3, 4]})
    with pytest.warns(GeoWarning, match="carriage returns became line breaks"):
        write_csv(table, tmp_path / "t.csv")
    rows = _csv_rows(tmp_path / "t.csv")
    assert [r["name"] for r in rows] == ["'\t=7+8", "'\n=9+1", "'-x", "ok"]
    assert [float(r["value"]) for r in rows] == [-1.5, 2, -3, 4]
    with pytest.warns(GeoWarning, match="carriage returns"):
        write_table(table, tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert [c.value for c in cells if c.column == 1][1:] == ["\t=7+8", "\n=9+1", "-x", "ok"]
