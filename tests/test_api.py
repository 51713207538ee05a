import subprocess
import sys

import pytest

import geo


def test_public_api_is_reexported_lazily():
    code = "import sys, geo; print('geo.zonal' in sys.modules, 'geopandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]  # import geo stays light
    assert geo.lookup("Alashan").adcode == "152900"
    assert geo.convert(1, "km2", "mu") == 1500
    assert geo.zonal_stats.__module__ == "geo.zonal"
    assert "grassland_fvc_pct" in geo.INDICATORS


def test_every_public_name_resolves():
    # dir(geo) is __all__ by construction, so check what a user gets: every name imports
    # and the lazy table points at real objects
    in_a_fresh_process = (
        "import geo; missing = [n for n in geo.__all__ if getattr(geo, n, None) is None]; "
        "print(len(geo.__all__), missing)"
    )
    out = subprocess.run(
        [sys.executable, "-c", in_a_fresh_process], capture_output=True, text=True, check=True
    )
    assert out.stdout.split(" ", 1) == [str(len(geo.__all__)), "[]\n"]
    assert callable(geo.compute_indicators) and geo.load_zones.__module__ == "geo.zones"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'zonal_stat'"):
        geo.zonal_stat  # noqa: B018
