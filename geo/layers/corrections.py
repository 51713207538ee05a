"""User corrections of derived layers: polygons that impose a class or value (field survey).

The corrections are checked before anything is derived and burnt into cached copies of the
layers.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import rasterio
from rasterio.features import rasterize

from geo.errors import DataError
from geo.layers import Layer
from geo.layers.derive_config import SANDIFIED_CLASSES
from geo.layers.layer_cache import SUMS, cached_meta, write_cache
from geo.outputs import atomic_path

__all__ = ["DERIVED_CLASSES", "DERIVED_RANGES", "apply_corrections", "check_corrections"]


#: Classes of the derived class layers (code → label); also checked in user corrections.
DERIVED_CLASSES = {
    "landcover_cn": {1: "forest", 2: "shrub forest", 3: "grassland", 4: "other land", 5: "water"},
    "sandified": {k: v[0] for k, v in SANDIFIED_CLASSES.items()},
    "redline_proxy": {0: "outside", 1: "inside"},
}


#: Range of the derived value layers (both FVC, in %).
DERIVED_RANGES = {"fvc": (0.0, 100.0), "fvc_grassland": (0.0, 100.0)}


def _feature(index, position: int) -> str:
    """``feature <n>`` (1-based, as GIS software numbers them) of a row of a vector file."""
    n = int(index) + 1 if isinstance(index, int | np.integer) else position + 1
    return f"feature {n}"


def check_corrections(corrections, layers: dict[str, Layer] | None = None):
    """Validate user corrections before anything is derived, corrected or written.

    Every feature needs a ``layer`` naming a derived layer and a ``value`` that the layer can
    hold: one of its declared class codes for class layers (an integer; ``2.5`` or ``300`` on
    an 8-bit layer would silently become another class), a finite number within the layer's
    range for value layers; never null, never text, never the layer's nodata value. Field
    names are matched case-insensitively (shapefiles often store ``LAYER``/``VALUE``).

    Parameters
    ----------
    corrections : geopandas.GeoDataFrame
        From :func:`geo.vectors.read_polygons` (``attrs["source"]`` names the file).
    layers : dict of str to Layer, optional
        The derived layers in use (their declared classes and the files' types are checked);
        default: the classes and ranges of :data:`DERIVED_CLASSES` and :data:`DERIVED_RANGES`.

    Returns
    -------
    geopandas.GeoDataFrame
        The corrections with fields ``layer`` (str) and ``value`` (float).

    Raises
    ------
    geo.errors.ZoneError
        Missing fields, unknown layer names.
    geo.errors.DataError
        A value the layer cannot hold; the message names the file, the feature and the fix.
    """
    from geo.errors import ZoneError

    source = corrections.attrs.get("source") or "corrections"
    lower = {str(c).lower(): c for c in corrections.columns if c != corrections.geometry.name}
    missing = [f for f in ("layer", "value") if f not in lower]
    if missing:
        raise ZoneError(
            f"{source} lacks the field(s) {missing} (it has {sorted(lower.values())}); give each "
            "polygon the derived layer name ('layer', e.g. sandified) and the value to impose "
            "('value', e.g. 0)"
        )
    out = corrections.rename(columns={lower["layer"]: "layer", lower["value"]: "value"})
    specs = _correction_specs(layers)
    values = []
    for pos, (idx, name, value) in enumerate(
        zip(out.index, out["layer"], out["value"], strict=True)
    ):
        where = f"{source}, {_feature(idx, pos)}"
        if name is None or (isinstance(name, float) and np.isnan(name)) or not str(name).strip():
            raise ZoneError(f"{where}: the 'layer' field is empty; use one of {sorted(specs)}")
        name = str(name).strip()
        if name not in specs:
            raise ZoneError(f"{where}: {name!r} is not a derived layer; use one of {sorted(specs)}")
        values.append(_check_value(where, name, value, specs[name]))
    out["layer"] = out["layer"].astype(str).str.strip()
    out["value"] = np.asarray(values, dtype="float64")
    return out


def _correction_specs(layers: dict[str, Layer] | None) -> dict[str, dict]:
    """Per derived layer: its classes (or value range), dtype and nodata, for the checks."""
    if layers is None:
        specs = {name: {"classes": c} for name, c in DERIVED_CLASSES.items()}
        specs.update({name: {"range": r} for name, r in DERIVED_RANGES.items()})
        return specs
    specs = {}
    for name, layer in layers.items():
        spec: dict = {}
        if layer.categorical:
            spec["classes"] = layer.classes or DERIVED_CLASSES.get(name, {})
        elif name in DERIVED_RANGES:
            spec["range"] = DERIVED_RANGES[name]
        try:
            with rasterio.open(layer.path) as src:
                spec["dtype"], spec["nodata"] = np.dtype(src.dtypes[0]), src.nodata
        except rasterio.errors.RasterioIOError:
            pass  # an unreadable layer file is reported where it is read
        specs[name] = spec
    return specs


def _check_value(where: str, name: str, value, spec: dict) -> float:
    """One correction value as float, or a DataError saying what the layer accepts."""
    classes = spec.get("classes")
    accepts = (
        f"one of its classes {_fmt_classes(classes)}"
        if classes
        else "a number" + (" from {:g} to {:g}".format(*spec["range"]) if "range" in spec else "")
    )
    fix = f"layer {name!r} takes {accepts}"
    if value is None:
        raise DataError(f"{where}: the 'value' field is empty; {fix}")
    if isinstance(value, bool | np.bool_):  # True would silently become class 1
        raise DataError(f"{where}: value {value!r} is a yes/no field, not a number; {fix}")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: value {value!r} is not a number; {fix}") from None
    if not np.isfinite(number):
        raise DataError(f"{where}: value {value!r} is empty or not finite; {fix}")
    dtype, nodata = spec.get("dtype"), spec.get("nodata")
    if classes or (dtype is not None and dtype.kind in "ui"):
        if not number.is_integer():
            raise DataError(f"{where}: value {value!r} is not a whole class code; {fix}")
        if dtype is not None and dtype.kind in "ui":
            info = np.iinfo(dtype)
            if not info.min <= number <= info.max:
                raise DataError(
                    f"{where}: value {value!r} does not fit the layer's {dtype} cells "
                    f"({info.min}…{info.max}); {fix}"
                )
    if classes and int(number) not in classes:
        raise DataError(f"{where}: value {value!r} is not a class of {name!r}; {fix}")
    if "range" in spec and not spec["range"][0] <= number <= spec["range"][1]:
        raise DataError(f"{where}: value {value!r} is out of range; {fix}")
    if nodata is not None and number == nodata:
        raise DataError(f"{where}: value {value!r} is the layer's nodata value; {fix}")
    return number


def _fmt_classes(classes: dict) -> str:
    return ", ".join(f"{k} ({v})" for k, v in sorted(classes.items()))


def apply_corrections(
    layers: dict[str, Layer],
    corrections,
    *,
    cache: str | Path | None = None,
    force: bool = False,
    warn_idle: bool = True,
) -> dict[str, Layer]:
    """Override derived classes or values where the user knows better (field survey).

    Parameters
    ----------
    layers : dict of str to Layer
        From :func:`derived_layers`.
    corrections : geopandas.GeoDataFrame
        Polygons with a ``layer`` field (a derived layer name, e.g. ``sandified``) and a
        ``value`` field (the class code or value to impose, e.g. 0 = not sandified); an
        optional ``note`` says why. Cells whose centre lies inside a polygon take the value.
        Checked with :func:`check_corrections` first.
    cache : path, optional
        Cache folder (default :func:`geo.data.cache_dir`).
    force : bool
        Rewrite the corrected copies even if cached.
    warn_idle : bool
        Warn about polygons that change no cell (off for repeated runs on other configurations).

    Returns
    -------
    dict of str to Layer
        The layers, with corrected copies (in the cache, keyed by the inputs and the
        corrections) replacing the affected ones; their ``source`` records the correction.
    """
    from geo.data import cache_dir

    corrections = check_corrections(corrections, layers)
    digest = hashlib.sha256(corrections.to_json(sort_keys=True).encode())
    out = dict(layers)
    root = Path(cache or cache_dir()) / "corrected"
    for name, group in corrections.groupby(corrections["layer"]):
        layer = layers[name]
        key = hashlib.sha256((digest.hexdigest() + str(layer.path)).encode()).hexdigest()[:20]
        folder = root / key
        path = folder / f"{name}.tif"
        meta = None if force else cached_meta(folder, SUMS, [path], "corrected-layer")
        if meta is None:
            write_cache(folder, partial(_write_corrected, layer, group, path), [path], {}, SUMS)
        if warn_idle:
            _warn_idle(layer, group)
        note = (
            f"; corrected by {len(group)} user polygon(s) ({corrections.attrs.get('source', '')})"
        )
        out[name] = replace(layer, path=path, source=layer.source + note)
    return out


def _write_corrected(layer: Layer, polygons, path: Path) -> None:
    with rasterio.open(layer.path) as src:
        data, profile = src.read(1), src.profile
        shapes = [
            (geom, float(value))
            for geom, value in zip(
                polygons.to_crs(src.crs).geometry, polygons["value"], strict=True
            )
        ]
        burnt = rasterize(
            shapes, out_shape=src.shape, transform=src.transform, fill=np.nan, dtype="float64"
        )
    hit = ~np.isnan(burnt)
    data = np.where(hit, burnt, data).astype(data.dtype)
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(corrections=f"{int(hit.sum())} cells overridden by user polygons")


def _warn_idle(layer: Layer, polygons) -> None:
    """Say which correction polygons change no cell of ``layer`` (every run, cached or not)."""
    import warnings

    from geo.errors import GeoWarning

    with rasterio.open(layer.path) as src:
        geoms = list(polygons.to_crs(src.crs).geometry)
        # which polygon sets each cell centre (later ones win, as when burning values)
        owner = rasterize(
            [(g, k) for k, g in enumerate(geoms)],
            out_shape=src.shape,
            transform=src.transform,
            fill=-1,
            dtype="int32",
        )
    idle = np.flatnonzero(np.bincount(owner[owner >= 0], minlength=len(geoms)) == 0)
    if len(idle):
        source = polygons.attrs.get("source") or "corrections"
        features = ", ".join(_feature(polygons.index[k], int(k)) for k in idle[:5])
        warnings.warn(
            f"{source}: {features} change no cell of {layer.name!r} (outside the region, smaller "
            "than a cell centre, or covered by a later feature); they have no effect",
            GeoWarning,
            stacklevel=4,
        )
