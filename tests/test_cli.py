import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from geo import __version__, cli

BARRIER = Path(sys.executable).with_name("barrier")


def run(*args, cwd=None):
    """Run the installed console script as a user would."""
    exe = [str(BARRIER)] if BARRIER.exists() else [sys.executable, "-m", "geo.cli"]
    return subprocess.run([*exe, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_version_and_help():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"barrier {__version__}"
    for sub in ("report", "zones", "layers", "lookup", "stats", "bench", "map", "change"):
        done = run(sub, "--help")
        assert done.returncode == 0, sub
        assert "usage: barrier " + sub in done.stdout


def test_zones_lists_members(capsys):
    assert cli.main(["zones", "--format", "csv"]) == 0
    from io import StringIO

    table = pd.read_csv(StringIO(capsys.readouterr().out), dtype=str)
    counts = table.level.value_counts().to_dict()
    assert {k: counts[k] for k in ("county", "league", "province", "battle")} == {
        "county": 103,
        "league": 12,
        "province": 1,
        "battle": 3,
    }
    ejin = table.loc[table.id == "152923"].iloc[0]
    assert (ejin.name_zh, ejin.name_en, ejin.parent_or_members) == (
        "额济纳旗",
        "Ejin Banner",
        "152900",
    )
    hexi = table.loc[table.id == "hexi_taklimakan"].iloc[0]
    assert set(hexi.parent_or_members.split(",")) >= {"152922", "152923"}
    assert cli.main(["zones", "league"]) == 0
    out = capsys.readouterr().out
    assert "league (12)" in out and "锡林郭勒盟" in out and "Xilingol League" in out


def test_layers_lists_catalogue(capsys):
    assert cli.main(["layers", "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert {"ndvi", "ndvi_max", "ndvi_min", "landcover", "climate", "dem"} <= set(rows)
    assert rows["landcover"]["kind"] == "categorical"
    assert rows["landcover"]["resolution"] == "0.05° × 0.05°"
    assert rows["landcover"]["crs"] == "EPSG:4326"
    assert "MCD12C1" in rows["landcover"]["source"] and rows["landcover"]["licence"]
    assert (
        rows["sandified"]["kind"] == "categorical" and "GB/T 24255" in rows["sandified"]["source"]
    )
    assert rows["fvc"]["resolution"] == "0.05° × 0.05°" and "dimidiate" in rows["fvc"]["source"]


def test_lookup_command():
    done = run("lookup", "Alashan")
    assert done.returncode == 0 and done.stdout.split("\t")[:2] == ["152900", "league"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lookup", "Atlantis"], "no administrative unit named 'Atlantis'"),
        (["zones", "prefecture"], "invalid choice: 'prefecture'"),
        (["lookup", "Xilingol", "--level", "county"], "level county"),
    ],
)
def test_bad_input_exit_2_one_line(args, message):
    done = run(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_report_into_unwritable_folder_fails_before_work(tmp_path):
    if os.geteuid() == 0:
        # root ignores permission bits: make the parent a file instead
        blocker = tmp_path / "file"
        blocker.write_text("x")
        out = blocker / "report"
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        out = ro / "report"
    done = run("report", "--out", str(out))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and str(out.parent) in done.stderr
    assert not out.exists()


def test_stats_on_dask_equals_in_process(tmp_path, capsys):
    pytest.importorskip("distributed")
    base = ["stats", "--zones", "league", "--layer", "ndvi_max", "--layer", "landcover"]
    base += ["--stat", "mean", "--stat", "area", "--precision", "full"]
    assert cli.main([*base, "-o", str(tmp_path / "a.csv")]) == 0
    assert (
        cli.main([*base, "--scheduler", "threads", "--chunks", "97", "-o", str(tmp_path / "b.csv")])
        == 0
    )
    a = pd.read_csv(tmp_path / "a.csv").select_dtypes("number")
    b = pd.read_csv(tmp_path / "b.csv").select_dtypes("number")
    assert list(a.columns) == list(b.columns)
    assert b.to_numpy() == pytest.approx(a.to_numpy(), rel=1e-9, abs=1e-9)


def test_map_command(tmp_path, capsys):
    out = tmp_path / "m.html"
    assert (
        cli.main(
            [
                "map",
                "--zones",
                "battle",
                "--indicator",
                "sandified_pct",
                "--offline",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    page = out.read_text(encoding="utf-8")
    assert "河西走廊" in page or "\\u6cb3\\u897f\\u8d70\\u5eca" in page
    assert "https://unpkg" not in page and "cdn.jsdelivr" not in page
    assert (
        cli.main(
            [
                "map",
                "--zones",
                "league",
                "--indicator",
                "treated_sandified_pct",
                "-o",
                str(tmp_path / "x.html"),
            ]
        )
        == 2
    )
    assert "was not computed" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_stats_long_class_table(tmp_path):
    out = tmp_path / "c.csv"
    args = ["stats", "--zones", "league", "--layer", "landcover", "--stat", "area"]
    args += ["--precision", "full"]
    assert cli.main([*args, "--units", "mu", "--long", "-o", str(out)]) == 0
    long = pd.read_csv(out, dtype={"adcode": str})
    assert list(long.columns[:4]) == ["adcode", "name_zh", "name_en", "level"]
    assert "grassland" in set(long.class_name)
    assert cli.main([*args, "--units", "mu", "-o", str(tmp_path / "w.csv")]) == 0
    wide = pd.read_csv(tmp_path / "w.csv", dtype={"adcode": str}).set_index("adcode")
    sums = long.groupby("adcode")["area_mu"].sum()
    assert sums.to_numpy() == pytest.approx(
        wide.loc[sums.index, "landcover_valid_area_mu"].to_numpy()
    )
