"""The zone-set contract (geo.zones.ZoneSet): one id column, key and derived geometry once."""

import pickle
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.crs import EQUAL_AREA
from geo.errors import CRSError, ZoneError
from geo.zones import ZoneSet, as_zone_set, load


def _own(boxes=((110, 40, 111, 41), (111, 40, 112, 41))):
    """A user's GeoDataFrame: no adcode, no zone column, no names."""
    return gpd.GeoDataFrame(
        {"note": [f"plot {k}" for k in range(len(boxes))]},
        geometry=[shapely.box(*b) for b in boxes],
        crs=4326,
    )


def test_key_is_stable_across_loads_processes_and_pickling():
    first, second = ZoneSet.load("county"), ZoneSet.load("county")
    assert first is not second and first.key == second.key
    # pickling leaves the cached key behind: the copy recomputes it from its zones
    copy = pickle.loads(pickle.dumps(first))
    assert "key" not in copy.__dict__
    assert copy.key == first.key
    code = "from geo.zones import ZoneSet; print(ZoneSet.load('county').key)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == first.key


def test_key_changes_when_one_vertex_moves():
    frame = _own()
    moved = frame.copy()
    moved.loc[1, "geometry"] = shapely.Polygon([(111, 40), (112, 40), (112, 41.000001), (111, 41)])
    assert as_zone_set(frame).key != as_zone_set(moved).key
    renamed = frame.set_axis(["a", "b"])
    assert as_zone_set(frame).key != as_zone_set(renamed).key
    assert as_zone_set(frame).key == as_zone_set(frame.copy()).key


def test_area_is_the_geodesic_area_of_a_known_polygon():
    # a 1° × 1° box: pyproj's geodesic area on the ellipsoid, independent of the toolkit's
    # equal-area projection; edges along meridians and parallels (a parallel is no geodesic,
    # so the box is densified to follow it in both)
    box = shapely.segmentize(shapely.box(110, 40, 111, 41), 0.001)
    zones = as_zone_set(gpd.GeoDataFrame(geometry=[box], crs=4326))
    geodesic = abs(Geod(ellps="WGS84").geometry_area_perimeter(box)[0]) / 1e6
    assert zones.area_km2[0] == pytest.approx(geodesic, rel=1e-6)
    assert zones.area_km2[0] == pytest.approx(
        shapely.area(zones.equal_area.iloc[0]) / 1e6, rel=1e-12
    )
    assert zones.equal_area.crs == EQUAL_AREA


def test_shipped_zone_sets_keep_their_declared_areas():
    battle = ZoneSet.load("battle")
    frame = load("battle")
    assert np.array_equal(battle.area_km2, frame["area_km2"].to_numpy())
    county = ZoneSet.load("county")
    assert county.area_km2 == pytest.approx(
        gpd.GeoSeries(county.frame.geometry).to_crs(EQUAL_AREA).area.to_numpy() / 1e6, rel=1e-12
    )


def test_user_frame_without_adcode_has_the_id_column_zone():
    zones = as_zone_set(_own())
    assert zones.id_column == "zone" and zones.level == "user"
    assert list(zones.frame["zone"]) == ["0", "1"] and list(zones.ids) == ["0", "1"]
    assert list(zones.frame["name_en"]) == ["0", "1"]  # names fall back to the id
    assert as_zone_set(zones) is zones
    assert as_zone_set(load("league")).id_column == "adcode"
    assert ZoneSet.load("battle_part").id_column == "zone"
    # a user's own area_km2 (perhaps in mu) never stands in for the zone area
    own = _own().assign(area_km2=[1.0, 2.0])
    assert as_zone_set(own).area_km2[0] > 8000
    assert list(as_zone_set(own).frame["user_area_km2"]) == [1.0, 2.0]


def test_simplified_is_computed_once_per_tolerance():
    county = ZoneSet.load("county")
    coarse = county.simplified(0.05)
    assert county.simplified(0.05) is coarse
    assert county.simplified(0.01) is not coarse
    fine_vertices = shapely.get_num_coordinates(county.frame.geometry.values).sum()
    assert shapely.get_num_coordinates(coarse.frame.geometry.values).sum() < fine_vertices / 5
    assert list(coarse.ids) == list(county.ids) and coarse.id_column == "adcode"


def test_geometry_in_a_crs_is_reprojected_once():
    county = ZoneSet.load("county")
    first, second = county.geometry_in(EQUAL_AREA), county.geometry_in(EQUAL_AREA)
    assert first is not second  # new series, shared (immutable) geometries
    assert all(a is b for a, b in zip(first.values, second.values, strict=True))


def test_frame_cannot_be_mutated_behind_the_key():
    zones = as_zone_set(_own())
    key, area = zones.key, zones.area_km2.copy()
    frame = zones.frame
    frame.loc["0", "geometry"] = shapely.box(0, 0, 50, 50)
    frame.loc["0", "zone"] = "changed"
    assert zones.frame.loc["0", "zone"] == "0"
    del zones.__dict__["key"]  # recompute from the zones themselves
    assert zones.key == key
    with pytest.raises(ValueError, match="read-only"):
        zones.area_km2[0] = 0.0
    assert np.array_equal(zones.area_km2, area)
    with pytest.raises(AttributeError, match="immutable"):
        zones.id_column = "adcode"


def test_bad_zone_frames_are_refused():
    with pytest.raises(ZoneError, match="repeat"):
        as_zone_set(_own().set_axis(["a", "a"]))
    with pytest.raises(CRSError, match="no CRS"):
        as_zone_set(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)]))
    with pytest.raises(ZoneError, match="GeoDataFrame or a ZoneSet"):
        as_zone_set([shapely.box(0, 0, 1, 1)])


def test_zone_set_renders_in_jupyter():
    page = ZoneSet.load("league")._repr_html_()
    assert "league" in page and "adcode" in page and "锡林郭勒盟" in page
