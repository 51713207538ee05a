"""Reading user polygon files (zones, red line, treated land): any GDAL format, any CRS."""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

from geo.crs import GCJ02_NAMES, require_crs, to_wgs84
from geo.errors import CRSError, DataError, GeoWarning, LayerError, ZoneError

__all__ = ["check_gcj02_shift", "clean_text", "read_polygons"]

#: Control characters removed from text attributes (XML 1.0 forbids most of them, so they
#: break XLSX writers; they come with text pasted from Word or other programs).
#: Characters that break XML (XLSX) and terminals: C0 controls but tab and line breaks, DEL,
#: and lone surrogates (undecodable bytes). Shared with the table writers (geo.tables).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: Line breaks and tabs inside a text value become one space.
_BREAKS = re.compile(r"\s*[\r\n\t]+\s*")
#: The longest text an XLSX cell holds (Excel's limit, in characters).
MAX_TEXT = 32_767
#: Names of the CSV columns GDAL is asked to read WKT geometry from.
_WKT_COLUMNS = "WKT,wkt,geometry,geom,the_geom,GEOMETRY,GEOM,THE_GEOM"


def read_polygons(
    path: str | Path,
    *,
    layer: str | None = None,
    source_crs: str | None = None,
    what: str = "polygons",
    layer_option: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon layer and return it in WGS84, its text attributes cleaned.

    Parameters
    ----------
    path : path
        GeoPackage, shapefile, GeoJSON … (anything pyogrio/GDAL reads). A CSV needs its
        polygons as WKT text in a column named ``WKT``, ``geometry``, ``geom`` or ``the_geom``.
    layer : str, optional
        Layer of a multi-layer file. Default: the first layer with geometry; when the file
        holds several, a :class:`~geo.errors.GeoWarning` names them and the one used.
    source_crs : str, optional
        Override the declared CRS; ``"gcj02"`` for Amap/Gaode coordinates (a warning when
        the correction moves polygons that matched the shipped boundaries away from them).
    what : str
        What the file is for (``"red line"``, ``"zones"`` …), used in messages.
    layer_option : str, optional
        The command-line option that chooses the layer (e.g. ``"--zones-layer"``), named in
        the multi-layer warning.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326; ``attrs["source"]`` names the file (and the layer of a multi-layer
        file), ``attrs["layer"]`` is the layer read. Text attributes and field names are
        cleaned with :func:`clean_text` (with a warning naming the features).

    Raises
    ------
    geo.errors.DataError
        Missing, unreadable or non-vector file; a folder; a table without geometry.
    geo.errors.LayerError
        A layer that does not exist (the message lists those that do).
    geo.errors.ZoneError
        No features, or geometries that are not polygons.
    geo.errors.CRSError
        No CRS (and no ``source_crs``), coordinates that do not fit the declared CRS, or
        ``gcj02`` given for coordinates that are not longitude/latitude.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{what} file {path} does not exist; check the path")
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise DataError(
            f"{what} {path} is a folder, not a vector file; give the .gpkg/.shp/.geojson"
        )
    used, label = _choose_layer(path, layer, what, layer_option)
    gdf = _read(path, used, label)
    if gdf.empty:
        raise ZoneError(f"{label} holds no features; choose a layer with polygons")
    gdf = clean_attributes(gdf, label)
    gcj = source_crs is not None and source_crs.strip().lower() in GCJ02_NAMES
    if gcj:
        _check_gcj02_input(gdf, label)
        _warn_needless_gcj02(gdf, label)
    if source_crs is None:
        require_crs(gdf, label)
    gdf = to_wgs84(gdf, source_crs, source=label)
    gdf = _polygons_only(gdf, label)
    gdf.attrs["source"] = label
    gdf.attrs["layer"] = used
    return gdf


def _choose_layer(path: Path, layer: str | None, what: str, option: str | None) -> tuple[str, str]:
    """The layer to read and the label of messages; warn when a multi-layer file is guessed."""
    try:
        listed = [(str(name), kind) for name, kind in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio.errors.DataSourceError and GDAL errors
        raise DataError(
            f"{what} {path} is not a readable vector file ({exc}); "
            "export it as GeoPackage or GeoJSON"
        ) from None
    names = [name for name, _ in listed]
    if layer is not None:
        if layer not in names:
            raise LayerError(
                f"{what} {path} has no layer {layer!r}; its layers are: {', '.join(names)}"
            )
        return layer, f"{what} {path} (layer {layer})"
    if not names:
        raise DataError(f"{what} {path} holds no layer; export the polygons to a GeoPackage")
    # a CSV reports no geometry type before it is read: only spatial layers are candidates
    spatial = [name for name, kind in listed if kind] or names
    if len(spatial) == 1:
        return spatial[0], f"{what} {path}"
    how = f"choose another with {option} NAME" if option else "export the one you mean alone"
    warnings.warn(
        f"{what} {path} has {len(spatial)} layers ({', '.join(spatial)}); using the first, "
        f"{spatial[0]!r}: {how}",
        GeoWarning,
        stacklevel=4,
    )
    return spatial[0], f"{what} {path} (layer {spatial[0]})"


def _read(path: Path, layer: str, label: str) -> gpd.GeoDataFrame:
    options = {}
    if path.suffix.lower() in (".csv", ".tsv"):
        # GDAL reads CSV geometry only from named WKT columns; drop the text copy
        options = {"GEOM_POSSIBLE_NAMES": _WKT_COLUMNS, "KEEP_GEOM_COLUMNS": "NO"}
    try:
        gdf = gpd.read_file(
            path,
            layer=layer,
            engine="pyogrio",
            encoding=_shapefile_encoding(path, label),
            **options,
        )
    except Exception as exc:  # GDAL read errors: truncated files, broken geometries
        if "closed linestring" in str(exc):
            raise ZoneError(
                f"{label} has a polygon ring that is not closed (its last point differs from its "
                "first); close the rings (e.g. QGIS 'Fix geometries') and try again"
            ) from None
        raise DataError(
            f"cannot read {label}: {exc}; the file may be truncated or corrupt"
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        fields = ", ".join(map(str, gdf.columns)) or "none"
        raise DataError(
            f"{label} has no geometry column; it is a plain table (fields: {fields}). Give a "
            "polygon file (GeoPackage, shapefile, GeoJSON), or a CSV with the polygons as WKT "
            "text in a column named WKT"
        )
    return gdf


def clean_text(value: str) -> str:
    """Remove control characters, turn line breaks and tabs into spaces, strip the ends.

    Parameters
    ----------
    value : str

    Returns
    -------
    str
        The cleaned text, at most :data:`MAX_TEXT` characters (the XLSX cell limit).
    """
    text = _BREAKS.sub(" ", CONTROL_CHARACTERS.sub("", value)).strip()
    return text[:MAX_TEXT]


def clean_attributes(gdf: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    """Clean text attributes and field names with :func:`clean_text`, with one warning.

    Text pasted from Word carries control characters, line breaks and stray spaces that
    crash XLSX writers and break identifiers; they are removed at load. The warning names
    the file, the fields and the features (1-based) whose control characters, line breaks or
    tabs were removed; stripping surrounding spaces alone is not warned about (so
    ``" 150100"`` is the identifier ``"150100"``).
    """
    geometry = gdf.geometry.name
    renames = {c: clean_text(c) for c in gdf.columns if c != geometry and clean_text(str(c)) != c}
    changed_fields = [str(c) for c in renames if clean_text(str(c)) != _strip_spaces(str(c))]
    rows = np.zeros(len(gdf), dtype=bool)
    out = gdf
    for col in gdf.columns:
        if col == geometry or not _textual(gdf[col]):
            continue
        values = gdf[col]
        is_text = values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        if not is_text.any():
            continue
        cleaned = values.where(~is_text, values[is_text].map(clean_text))
        changed = is_text & (cleaned.astype(object) != values.astype(object)).to_numpy(bool)
        if not changed.any():
            continue
        out = out.copy() if out is gdf else out
        out[col] = cleaned
        # surrounding spaces are common and harmless once stripped: only the rest is said
        stripped = values.where(~is_text, values[is_text].map(_strip_spaces))
        said = is_text & (cleaned.astype(object) != stripped.astype(object)).to_numpy(bool)
        if said.any():
            changed_fields.append(str(col))
            rows |= said
    if renames:
        out = out.rename(columns=renames)
    if changed_fields:
        where = np.flatnonzero(rows) + 1
        feats = ", ".join(map(str, where[:10])) + (" …" if where.size > 10 else "")
        warnings.warn(
            f"{label}: removed control characters or line breaks (or cut text over {MAX_TEXT:,} "
            "characters, the XLSX cell limit) in "
            f"field(s) {', '.join(dict.fromkeys(changed_fields))}"
            + (f" of feature(s) {feats}" if where.size else " (field names)")
            + "; correct the file to silence this warning",
            GeoWarning,
            stacklevel=3,
        )
    return out


def _strip_spaces(text: str) -> str:
    # plain, no-break and ideographic spaces only: str.strip would also eat control characters
    return text.strip(" \u00a0\u3000")


def _textual(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def _check_gcj02_input(gdf: gpd.GeoDataFrame, label: str) -> None:
    """GCJ-02 is longitude/latitude: refuse projected files and coordinates in metres."""
    if gdf.crs is not None and gdf.crs.is_projected:
        raise CRSError(
            f"{label} declares the projected CRS {gdf.crs.name}, but --source-crs gcj02 is for "
            "longitude/latitude (Amap/Gaode) coordinates; drop --source-crs or export the file "
            "in GCJ-02 longitude/latitude"
        )
    xmin, ymin, xmax, ymax = gdf.total_bounds
    if xmin < -180.5 or xmax > 360.5 or ymin < -90.5 or ymax > 90.5:
        raise CRSError(
            f"{label}: --source-crs gcj02 needs longitude/latitude, but the coordinates reach "
            f"({xmin:.4g}, {ymin:.4g}, {xmax:.4g}, {ymax:.4g}), which are not degrees; give the "
            "file's real CRS with --source-crs"
        )


def _polygons_only(gdf: gpd.GeoDataFrame, label: str) -> gpd.GeoDataFrame:
    """Refuse empty and non-polygon geometries; repair invalid polygons with a warning."""
    geoms = gdf.geometry
    empty = np.flatnonzero(geoms.isna().to_numpy() | geoms.is_empty.to_numpy())
    if empty.size:
        rows = ", ".join(str(i + 1) for i in empty[:10])
        raise ZoneError(f"{label}: feature(s) {rows} have no geometry; delete them or draw them")
    kinds = geoms.geom_type.to_numpy()
    other = np.flatnonzero(~np.isin(kinds, ["Polygon", "MultiPolygon"]))
    if other.size:
        rows = ", ".join(str(i + 1) for i in other[:10]) + (" …" if other.size > 10 else "")
        raise ZoneError(
            f"{label} must hold polygons only, found {sorted(set(kinds))} (feature(s) {rows} "
            "are not polygons); split the layer or keep its polygons"
        )
    invalid = np.flatnonzero(~geoms.is_valid.to_numpy())
    if invalid.size:
        reasons = shapely.is_valid_reason(geoms.to_numpy()[invalid[:3]])
        warnings.warn(
            f"{label}: {invalid.size} invalid polygon(s) (feature {invalid[0] + 1}: "
            f"{reasons[0]}) repaired with shapely.make_valid; check them in a GIS",
            GeoWarning,
            stacklevel=3,
        )
        fixed = shapely.make_valid(geoms.to_numpy()[invalid])
        # make_valid may return collections with lines: keep the polygonal part
        fixed = [_polygonal(g) for g in fixed]
        gdf = gdf.copy()
        gdf.loc[gdf.index[invalid], gdf.geometry.name] = fixed
    return gdf


def _polygonal(geom):
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _shapefile_encoding(path: Path, label: str) -> str | None:
    """Encoding of a shapefile's attributes when it has no ``.cpg``: UTF-8 or GB18030.

    Desktop GIS in China often writes GBK attributes without a ``.cpg``; GDAL then reads
    them as Latin-1 and Chinese names turn into mojibake. Decide from the raw bytes.
    """
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists():
        return None
    if path.with_suffix(".CPG").exists():
        return None
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return None
    raw = dbf.read_bytes()
    if len(raw) > 29 and raw[29] != 0:  # a language driver id in the header: GDAL knows
        return None
    if all(b < 0x80 for b in raw[32:]):
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            raw[32:].decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != "utf-8":
            warnings.warn(
                f"{label}: no .cpg file; attributes decoded as {encoding.upper()} (Chinese). "
                f"Add {path.with_suffix('.cpg').name} containing 'GBK' to make this explicit",
                GeoWarning,
                stacklevel=4,
            )
        return encoding
    raise DataError(
        f"{label}: no .cpg file and the attributes are neither UTF-8 nor GBK/GB18030; "
        f"add {path.with_suffix('.cpg').name} naming the encoding"
    )


@functools.lru_cache(maxsize=1)
def _boundary_segments() -> tuple[shapely.STRtree, np.ndarray]:
    """Every edge of the shipped county boundaries (which include league and province edges)."""
    from geo import boundaries
    from geo.crs import EQUAL_AREA

    polygons = shapely.get_parts(boundaries.load("county").to_crs(EQUAL_AREA).geometry.to_numpy())
    rings = shapely.get_rings(polygons)
    coords, index = shapely.get_coordinates(rings, return_index=True)
    same = index[:-1] == index[1:]
    segments = shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], axis=1))
    return shapely.STRtree(segments), segments


def _boundary_offsets(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """Median distance (m) from vertices to the nearest shipped boundary edge, two ways.

    First as given (read as WGS84), then after the GCJ-02 → WGS84 correction.
    """
    from geo.crs import EQUAL_AREA, gcj02_to_wgs84

    tree, _segments = _boundary_segments()
    to_albers = Transformer.from_crs("EPSG:4326", EQUAL_AREA, always_xy=True)
    given = shapely.points(*to_albers.transform(lon, lat))
    fixed = shapely.points(*to_albers.transform(*gcj02_to_wgs84(lon, lat)))
    d_given = tree.query_nearest(given, return_distance=True)[1]
    d_fixed = tree.query_nearest(fixed, return_distance=True)[1]
    return float(np.median(d_given)), float(np.median(d_fixed))


def _sample_lonlat(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Up to 2000 vertices, evenly spread, as longitude/latitude (None without vertices)."""
    xy = shapely.get_coordinates(gdf.geometry.to_numpy())
    if len(xy) == 0:
        return None
    sample = xy[np.linspace(0, len(xy) - 1, min(len(xy), 2000)).astype(int)]
    if gdf.crs is None or gdf.crs.is_geographic:
        return sample[:, 0], sample[:, 1]
    lon, lat = Transformer.from_crs(gdf.crs, "EPSG:4326", always_xy=True).transform(*sample.T)
    return np.asarray(lon), np.asarray(lat)


def check_gcj02_shift(gdf: gpd.GeoDataFrame, label: str) -> None:
    """Refuse polygons that match the shipped boundaries only after a GCJ-02 correction.

    Amap-derived boundaries labelled WGS84 are shifted by ≈ 100–700 m. For zone files whose
    edges follow administrative boundaries, the distance from a sample of their vertices to the
    nearest shipped boundary segment is small only after :func:`geo.crs.gcj02_to_wgs84`; then
    the file is GCJ-02. Zones that follow no administrative boundary are left alone.
    """
    sample = _sample_lonlat(gdf)
    if sample is None:
        return
    as_is, corrected = _boundary_offsets(*sample)
    if as_is > 50.0 and corrected < 0.3 * as_is:
        raise CRSError(
            f"{label} lines up with the shipped boundaries only after a GCJ-02 correction "
            f"(median vertex offset {as_is:.0f} m as given, {corrected:.0f} m corrected; "
            "typical of Amap/Gaode data): add --source-crs gcj02"
        )


def _warn_needless_gcj02(gdf: gpd.GeoDataFrame, label: str) -> None:
    """Warn when ``--source-crs gcj02`` moves polygons that matched the boundaries as given.

    The mirror of :func:`check_gcj02_shift`: a file already in WGS84 whose edges follow the
    shipped boundaries (median vertex offset under 50 m) is moved 100–700 m away by the
    correction. Polygons that follow no administrative boundary are far from it either way
    and get no warning.
    """
    sample = _sample_lonlat(gdf.set_crs("EPSG:4326", allow_override=True))
    if sample is None:
        return
    as_is, corrected = _boundary_offsets(*sample)
    if as_is < 50.0 and corrected > max(2.0 * as_is, 20.0):
        warnings.warn(
            f"{label}: --source-crs gcj02 moves these polygons away from the shipped boundaries "
            f"(median vertex offset {as_is:.0f} m as given, {corrected:.0f} m after the GCJ-02 "
            "correction); the file looks like WGS84 already: drop --source-crs gcj02 unless it "
            "really holds Amap/Gaode coordinates",
            GeoWarning,
            stacklevel=4,
        )
