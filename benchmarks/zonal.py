"""Benchmark of geo.zonal against the raw raster read, exactextract and rasterstats.

The code ships in the package as :mod:`geo.bench` (``barrier bench`` runs it); this script
runs it from a source checkout. See :mod:`geo.bench` for what is measured and how.

Usage::

    python benchmarks/zonal.py --resolution 250 --repeat 3
    python benchmarks/zonal.py --quick
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    # the checkout's geo, installed or not
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from geo.bench import main

    raise SystemExit(main())
