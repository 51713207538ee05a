import subprocess
import sys

import geo


def test_public_api_is_reexported_lazily():
    code = "import sys, geo; print('geo.zonal' in sys.modules, 'geopandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]  # import geo stays light
    assert geo.lookup("Alashan").adcode == "152900"
    assert geo.convert(1, "km2", "mu") == 1500
    assert geo.zonal_stats.__module__ == "geo.zonal"
    assert "grassland_fvc_pct" in geo.INDICATORS
    assert set(geo.__all__) <= set(dir(geo))
