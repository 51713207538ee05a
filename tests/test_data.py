"""The shipped data are found from a non-editable install (a wheel), not only from the checkout."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from geo.data import ENV_VAR, data_dir, data_path
from geo.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_layout_and_sources():
    for folder in ("boundaries", "rasters", "context"):
        assert (data_dir() / folder / "SOURCES.md").is_file(), folder
    with pytest.raises(DataError, match="missing"):
        data_path("rasters", "nope.tif")


def test_env_var_must_point_at_data(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(DataError, match=ENV_VAR):
        data_dir()


@pytest.mark.slow
def test_wheel_carries_data_and_finds_it(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "geo/_data/boundaries/im_admin_wgs84.gpkg" in names
    assert "geo/_data/rasters/layers.toml" in names
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=600,
    )
    code = (
        "import geo, geo.data, geo.boundaries, geo.layers;"
        "print(geo.__file__); print(geo.data.data_dir());"
        "print(len(geo.boundaries.load('league')), len(geo.layers.catalogue()))"
    )
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=True,
    )
    module, folder, counts = done.stdout.strip().splitlines()
    assert module.startswith(str(site))
    assert folder == str(site / "geo" / "_data")
    assert counts == "12 7"
