import geopandas as gpd
import numpy as np
import pytest
import shapely
from rasterio.transform import from_origin

from geo.change import continuous_change, transition_matrix
from geo.errors import DataError
from geo.testing import write_raster

CRS = "EPSG:6933"  # equal-area: every 1 km cell is exactly 1 km²


def _write(path, data, nodata, transform=None):
    if transform is None:
        return write_raster(path, data, nodata=nodata, crs=CRS, origin=(0, 4000))
    return write_raster(path, data, nodata=nodata, crs=CRS, transform=transform)


@pytest.fixture
def zones():
    # zone "a": the left two columns (8 cells); zone "b": the right half of column 2 and column 3
    return gpd.GeoDataFrame(
        {"zone": ["a", "b"]},
        geometry=[shapely.box(0, 0, 2000, 4000), shapely.box(2500, 0, 4000, 4000)],
        crs=CRS,
    ).set_index("zone")


def test_transition_matrix_by_hand(tmp_path, zones):
    before = np.array([[1, 1, 2, 2]] * 4, dtype="uint8")
    after = np.array([[1, 3, 2, 3]] * 4, dtype="uint8")
    after[0, 0] = 255  # nodata in the second epoch: left out
    b = _write(tmp_path / "b.tif", before, 255)
    a = _write(tmp_path / "a.tif", after, 255)
    m = transition_matrix(zones, b, a).set_index(["zone", "from_class", "to_class"]).area_km2
    assert m[("a", 1, 1)] == pytest.approx(3.0)  # column 0 minus the nodata cell
    assert m[("a", 1, 3)] == pytest.approx(4.0)
    assert m[("b", 2, 2)] == pytest.approx(2.0)  # half of column 2
    assert m[("b", 2, 3)] == pytest.approx(4.0)
    assert len(m) == 4


def test_continuous_change_uses_cells_valid_in_both(tmp_path, zones):
    before = np.full((4, 4), 10.0, dtype="float32")
    after = np.full((4, 4), 14.0, dtype="float32")
    before[:, 0] = 0.0
    after[:, 0] = np.nan  # column 0 missing after: excluded from both means
    b = _write(tmp_path / "b.tif", before, None)
    a = _write(tmp_path / "a.tif", after, None)
    out = continuous_change(zones, b, a)
    assert out.loc["a", "mean_before"] == pytest.approx(10.0)
    assert out.loc["a", "change"] == pytest.approx(4.0)
    assert out.loc["a", "valid_area_km2"] == pytest.approx(4.0)


def test_epochs_on_different_grids_are_refused(tmp_path, zones):
    data = np.ones((4, 4), dtype="uint8")
    b = _write(tmp_path / "b.tif", data, 255)
    a = _write(tmp_path / "a.tif", data, 255, transform=from_origin(500, 4000, 1000, 1000))
    with pytest.raises(DataError, match="not on the same grid"):
        transition_matrix(zones, b, a)


def test_change_command(tmp_path, capsys):
    from geo import cli

    zones = gpd.GeoDataFrame({"zone": ["a"]}, geometry=[shapely.box(0, 0, 2000, 4000)], crs=CRS)
    zones.to_file(tmp_path / "z.gpkg")
    before = np.array([[1, 1, 2, 2]] * 4, dtype="uint8")
    after = np.array([[1, 3, 2, 3]] * 4, dtype="uint8")
    b = _write(tmp_path / "b.tif", before, 255)
    a = _write(tmp_path / "a.tif", after, 255)
    out = tmp_path / "t.csv"
    code = cli.main(
        [
            "change",
            "--zones",
            str(tmp_path / "z.gpkg"),
            "--before",
            str(b),
            "--after",
            str(a),
            "--categorical",
            "--units",
            "mu",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    import pandas as pd

    table = pd.read_csv(out)
    assert list(table.columns[:4]) == ["zone", "name_zh", "name_en", "level"]
    table = table.set_index(["from_class", "to_class"])
    assert table.loc[(1, 3), "area_mu"] == pytest.approx(4 * 1500)
    code = cli.main(
        ["change", "--zones", "league", "--before", str(b), "--after", str(tmp_path / "no.tif")]
    )
    assert code == 2 and "no.tif does not exist" in capsys.readouterr().err
