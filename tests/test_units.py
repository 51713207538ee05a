import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo import units
from geo.errors import GeoError


def test_km2_ha_mu_exact():
    assert units.convert(1, "km2", "ha") == 100
    assert units.convert(1, "km2", "mu") == 1500
    assert units.convert(1500, "mu", "km2") == 1
    assert units.convert(1, "mu", "m2") == pytest.approx(666.6666666667, abs=1e-9)
    assert units.convert(1, "亿亩", "万亩") == 10_000


def test_cultivated_land_red_line():
    # 1.7亿亩 = 1.7e8 mu = 1.7e8 / 1500 km² = 113,333.33 km² (plan digest T06)
    assert units.convert(1.7, "亿亩", "km2") == pytest.approx(1.7e8 / 1500, rel=1e-12)
    assert units.format_area(units.convert(1.7, "亿亩", "m2"), "亿亩", lang="zh") == "1.7亿亩"
    assert units.format_area(113_333.333e6, "km2") == "113,333 km²"
    assert units.format_area(596_900e6, "km2", lang="zh") == "596900平方公里"
    assert units.format_area(20.82e6 * 10_000 / 15, "万亩", lang="zh") == "2082万亩"


def test_area_columns_and_nan():
    cols = units.area_columns("area", np.array([1.0, np.nan]))
    assert list(cols) == ["area_km2", "area_ha", "area_mu"]
    assert cols["area_mu"][0] == 1500 and np.isnan(cols["area_mu"][1])
    assert units.format_area(float("nan")) == "–"


def test_unknown_unit():
    with pytest.raises(GeoError, match="acre"):
        units.convert(1, "acre", "km2")


@given(st.floats(min_value=0, max_value=1e13, allow_nan=False), st.sampled_from(list(units.UNITS)))
def test_round_trip(value, unit):
    back = units.convert(units.convert(value, "m2", unit), unit, "m2")
    assert back == pytest.approx(value, rel=1e-12, abs=1e-9)
