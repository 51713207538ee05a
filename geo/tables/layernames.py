"""Unique, predictable names of layers: the prefixes of statistics columns."""

from __future__ import annotations

from pathlib import Path

__all__ = ["name_layers"]


def _is_user_file(layer) -> bool:
    """A raster file given by path (``Layer.from_file``), not a shipped or derived layer."""
    return layer.licence == "user data"


def name_layers(layer_specs) -> list:
    """Give every layer a unique, predictable name (the prefix of its table columns).

    * A shipped or derived layer keeps its name (``ndvi_max``, ``fvc`` …).
    * A raster file is named by its file stem (``data/dem.tif`` → ``dem``); a stem equal to a
      shipped or derived layer name gets ``file_`` in front (``ndvi_max.tif`` →
      ``file_ndvi_max``) so that it is never mistaken for the shipped layer.
    * Different files whose names still collide get their parent folder's name in front
      (``a/x.tif``, ``b/x.tif`` → ``a_x``, ``b_x``).
    * Names that still repeat (the same layer or file given twice) get ``_2``, ``_3`` … in
      order, the first keeping its name.

    Names given by an earlier call are kept, so naming twice changes nothing.

    Parameters
    ----------
    layer_specs : sequence of geo.layers.Layer

    Returns
    -------
    list of geo.layers.Layer
        The layers, renamed where needed (same order).
    """
    from dataclasses import replace

    from geo.layers import catalogue
    from geo.layers.derive import DERIVED_NAMES

    reserved = {*catalogue(), *DERIVED_NAMES}
    names = []
    for layer in layer_specs:
        stem = Path(layer.path).stem
        fresh = _is_user_file(layer) and layer.name == stem
        names.append(f"file_{stem}" if fresh and stem in reserved else layer.name)
    # the folder tells apart different files of one stem; the same file twice gets _2
    files: dict[str, set] = {}
    for name, layer in zip(names, layer_specs, strict=True):
        files.setdefault(name, set()).add(Path(layer.path).resolve())
    for k, layer in enumerate(layer_specs):
        if (
            len(files[names[k]]) > 1
            and _is_user_file(layer)
            and names[k].endswith(Path(layer.path).stem)
        ):
            names[k] = f"{Path(layer.path).absolute().parent.name}_{names[k]}"
    seen: set[str] = set()
    for k, name in enumerate(names):
        n, unique = 1, name
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        names[k] = unique
    return [
        layer if layer.name == name else replace(layer, name=name)
        for layer, name in zip(layer_specs, names, strict=True)
    ]
