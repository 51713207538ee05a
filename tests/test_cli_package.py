"""The ``barrier`` command as a package (issue 15): one module per subcommand, shared options,
no settings through ``os.environ``, the progress total counted from the job."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import geopandas as gpd
import pytest
import shapely

from geo import __version__, boundaries, cli
from geo.cli import report as report_command
from geo.data import ENV_VAR, data_dir, use_data_dir
from geo.errors import DataError

# the module geo.cli.main (the attribute geo.cli.main is the function, for the entry point)
main_module = importlib.import_module("geo.cli.main")


# ----------------------------------------------------------------------------- the package


def test_main_is_the_function_of_the_entry_point():
    from geo.cli import main

    # pyproject's [project.scripts] barrier = "geo.cli:main"
    assert main is main_module.main and callable(cli.main)


def test_python_m_geo_cli_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "geo.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == f"barrier {__version__}"


def test_every_subcommand_is_a_module_with_add_parser_and_run():
    names = []
    for command in main_module.COMMANDS:
        assert callable(command.add_parser) and callable(command.run), command.__name__
        names.append(command.__name__.rsplit(".", 1)[1])
    assert names == [
        "report", "zones", "layers", "stats", "map", "change", "series", "trend", "lakes",
        "progress", "bench", "lookup", "fetch",
    ]  # fmt: skip
    parser = main_module.build_parser()
    for name in ("report", "zones", "layers", "stats", "map", "change", "lookup"):
        args = parser.parse_args([name, *_required(name)])
        assert args.func.__module__ == f"geo.cli.{name}"


def _required(name: str) -> list[str]:
    return {
        "stats": ["--zones", "league", "--layer", "ndvi"],
        "map": ["--zones", "league", "--indicator", "x"],
        "change": ["--zones", "league", "--before", "a", "--after", "b"],
        "lookup": ["x"],
    }.get(name, [])


def test_one_list_of_zone_sets_from_the_owners():
    from geo import zones

    assert (*boundaries.LEVELS, *zones.BATTLE_LEVELS) == cli.ZONE_SETS
    parser = main_module.build_parser()
    for name in cli.ZONE_SETS:
        assert parser.parse_args(["zones", name]).set == name


def test_shared_option_declared_once_means_the_same_everywhere():
    parser = main_module.build_parser()
    for command in (["report"], ["map", "--zones", "x", "--indicator", "y"]):
        args = parser.parse_args(command)
        assert args.basemap == "hillshade" and args.lang == "both" and args.offline is False


# ----------------------------------------------------------------------------- --data


def test_use_data_dir_is_scoped_and_leaves_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    (tmp_path / "boundaries").mkdir()
    shipped = data_dir()
    before = dict(os.environ)
    with use_data_dir(tmp_path) as folder:
        assert folder == tmp_path and data_dir() == tmp_path
        with use_data_dir(shipped):  # nested: the inner one wins, then the outer comes back
            assert data_dir() == shipped
        assert data_dir() == tmp_path
    assert data_dir() == shipped and dict(os.environ) == before


def test_use_data_dir_wins_over_the_environment_variable(tmp_path, monkeypatch):
    (tmp_path / "boundaries").mkdir()
    monkeypatch.setenv(ENV_VAR, str(data_dir()))
    with use_data_dir(tmp_path):
        assert data_dir() == tmp_path


def test_use_data_dir_refuses_a_folder_without_boundaries(tmp_path):
    with pytest.raises(DataError, match="boundaries/"), use_data_dir(tmp_path):
        pass


def test_report_data_option_is_used_and_leaves_os_environ_unchanged(barrier, tmp_path, monkeypatch):
    from geo import report

    monkeypatch.delenv(ENV_VAR, raising=False)
    folder = tmp_path / "mydata"
    (folder / "boundaries").mkdir(parents=True)
    seen = []

    def fake_build_report(out, **_options):
        seen.append(data_dir())
        return out

    monkeypatch.setattr(report, "build_report", fake_build_report)
    before = dict(os.environ)
    code, _, _ = barrier("report", "--quiet", "--data", folder, "--out", tmp_path / "r")
    assert code == 0 and seen == [folder]
    assert dict(os.environ) == before and data_dir() != folder


def test_report_data_option_error_leaves_os_environ_unchanged(barrier, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    before = dict(os.environ)
    # a missing input is refused inside the run, after --data is taken
    code, _, err = barrier(
        "report",
        "--quiet",
        "--data",
        data_dir(),
        "--treated",
        tmp_path / "t.gpkg",
        "--out",
        tmp_path / "r",
    )
    assert code == 2 and "t.gpkg does not exist" in err
    assert dict(os.environ) == before


def test_report_data_option_naming_no_data_folder_is_refused(barrier, tmp_path):
    code, _, err = barrier("report", "--data", tmp_path, "--out", tmp_path / "r")
    assert code == 2
    assert err.count("\n") == 1 and f"data folder {tmp_path}" in err and "--data" in err
    assert not (tmp_path / "r").exists()


# ----------------------------------------------------------------------------- progress


def _steps(err: str) -> list[str]:
    """The plain progress lines (stderr is not a terminal under pytest)."""
    lines = [line for line in err.splitlines() if line.startswith("barrier report: ")]
    assert lines[-1].startswith("barrier report: done → ")
    return lines[:-1]


def _predicted(*args) -> int:
    parsed = main_module.build_parser().parse_args(["report", *map(str, args)])
    return report_command.step_count(parsed)


def test_progress_total_is_the_number_of_steps_of_the_default_run(barrier, tmp_path):
    args = ("--out", tmp_path / "r")  # the usual cache: the count does not depend on it
    code, _, err = barrier("report", *args)
    assert code == 0
    # 1 derived layers, 5 zone sets, 6 method variants, tables, 6 sensitivity rows,
    # maps, figures, report.html, report.docx, manifest
    assert len(_steps(err)) == _predicted(*args) == 24


def test_progress_total_follows_the_options(barrier, tmp_path):
    own = boundaries.load("league").iloc[:2][["adcode", "name_zh", "name_en", "geometry"]]
    own.to_file(tmp_path / "own.gpkg")
    fix = gpd.GeoDataFrame(
        {"layer": ["sandified"], "value": [0]}, geometry=[shapely.box(104, 38, 106, 40)], crs=4326
    )
    fix.to_file(tmp_path / "fix.gpkg")
    args = (
        "--out", tmp_path / "r", "--zones", tmp_path / "own.gpkg",
        "--correction", tmp_path / "fix.gpkg", "--layer", "climate", "--tables-only", "--pdf",
    )  # fmt: skip
    code, _, err = barrier("report", *args)
    assert code == 0, err
    # the default 24, plus corrections and the user's zone set, minus the three pages, plus PDF
    assert len(_steps(err)) == _predicted(*args) == 24 + 1 + 1 - 3 + 1


# ----------------------------------------------------------------------------- bench


def test_bench_runs_the_shipped_module_with_the_options(barrier, monkeypatch):
    from geo import bench

    seen = []
    monkeypatch.setattr(bench, "main", lambda argv: seen.append(argv) or 0)
    code, _, _ = barrier("bench", "--quick", "--repeat", "1")
    assert code == 0 and seen and sorted(seen[0]) == sorted(["--quick", "--repeat", "1"])


@pytest.mark.slow
def test_bench_quick_agrees_with_exactextract(barrier, tmp_path):
    args = ("bench", "--quick", "--repeat", "1", "--rasterstats", "no", "--cache", tmp_path)
    code, out, _ = barrier(*args)
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("largest relative disagreement"))
    # geo.zonal's means and class fractions against exactextract's on an equal-area grid
    worst = [float(part.split()[-1]) for part in line.split(":", 1)[1].split(",")]
    assert len(worst) == 2 and max(worst) < 1e-9


# ----------------------------------------------------------------------------- the house


_MINE = ("**/*.py",)  # every module of geo/ (issue 15: the whole house)


def _modules():
    from pathlib import Path

    import geo

    root = Path(geo.__file__).parent
    return [path for pattern in _MINE for path in sorted(root.glob(pattern))]


#: Names under which geo's modules are imported (``from geo import zonal`` …).
_GEO_MODULES = {
    "zonal", "boundaries", "zones", "report", "tables", "indicators", "pipeline", "layers",
    "derive", "static", "interactive", "overlays", "classes", "reporthtml", "reportdoc",
    "monitor", "trends", "trendmaps", "stack", "series", "lakes", "progress", "scale", "change",
    "summary", "units", "crs", "data", "outputs", "provenance", "fonts", "charts", "vectors",
}  # fmt: skip


def test_no_private_name_imported_across_modules():
    import ast

    crossing = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("geo"):
                crossing += [
                    f"{path.name}: {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in _GEO_MODULES
            ):
                crossing.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert crossing == []


def test_modules_are_short():
    long = {p.name: n for p in _modules() if (n := len(p.read_text().splitlines())) > 600}
    assert long == {}
