"""Zone sets: the administrative levels, the three battle zones, or a user's own polygon file.

:func:`load` gives a zone set as a GeoDataFrame with a unique identifier column (``adcode`` for
the administrative levels, ``zone`` for the battle zones and a user's file), ``name_zh``,
``name_en``, ``level`` and polygon geometry in WGS84; :class:`ZoneSet` (from
:mod:`geo.zoneset`) wraps one with its id column declared and its derived geometry (equal-area,
simplified), areas and key computed once.

The battle zones of the "Three-North" programme are unions of banners read from a membership
table (:mod:`geo.battles`, re-exported here); the Natural Earth desert polygons of
:func:`context_overlays` are for display only.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import boundaries
from geo.battles import (
    BATTLE_LEVELS,
    BATTLES,
    CONFIDENCE,
    MEMBERSHIP_COLUMNS,
    MEMBERSHIP_FILE,
    PARTS,
    Battle,
    battle_zones,
    membership,
)
from geo.data import data_path
from geo.errors import DataError, GeoWarning, ZoneError
from geo.vectors import check_gcj02_shift, read_polygons
from geo.zoneset import ID_COLUMNS, ZoneSet, as_zone_set

__all__ = [
    "BATTLES",
    "BATTLE_LEVELS",
    "CONFIDENCE",
    "ID_COLUMNS",
    "ID_FIELDS",
    "MEMBERSHIP_COLUMNS",
    "MEMBERSHIP_FILE",
    "NAME_FIELDS",
    "PARTS",
    "RESERVED_FIELDS",
    "Battle",
    "ZoneSet",
    "as_zone_set",
    "battle_zones",
    "context_overlays",
    "load",
    "membership",
    "user_attributes",
]


#: Fields tried, in order and ignoring case, as the identifier of a user's zone file:
#: the adcode, the Chinese conventions 行政区代码 (XZQDM), PAC and 区划代码 (QHDM), then
#: generic codes, then names.
ID_FIELDS = (
    "adcode", "zone", "xzqdm", "pac", "qhdm", "code", "id", "name_en", "name", "name_zh",
)  # fmt: skip
#: Fields tried, in order and ignoring case, as the names of a user's zone file: 行政区名称
#: (XZQMC), 名称, 区划名称 (QHMC). Chinese values go to ``name_zh``, Latin ones to ``name_en``.
NAME_FIELDS = ("name_zh", "xzqmc", "名称", "name", "qhmc", "name_en")
#: Column names the toolkit reads from a zone set; a user field of such a name (ignoring
#: case) is carried as ``user_<name>`` so that it cannot stand in for the toolkit's value
#: (a user's ``area_km2`` in mu would otherwise become the zone area).
RESERVED_FIELDS = (
    "zone", "adcode", "name_zh", "name_en", "name_pinyin", "level", "geometry", "area_km2",
    "league_adcode", "members", "n_banners", "battle", "part", "featurecla", "layer", "value",
    "id", "note",
)  # fmt: skip
#: Longest identifier (characters) and longest name (longer names are cut, with a warning).
MAX_ID, MAX_NAME = 255, 200
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")

_CONTEXT_FILE = ("context", "ne_physical_regions_im.gpkg")
_OVERLAY_NOTE = "Natural Earth 1:10M generalised outline; for display, not area statistics"


def load(
    spec: str | Path,
    *,
    layer: str | None = None,
    id_field: str | None = None,
    source_crs: str | None = None,
    membership: str | Path | None = None,
    name_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Load a zone set by level name or from a polygon file.

    Parameters
    ----------
    spec : str or Path
        ``"province"``, ``"league"``, ``"county"``, ``"battle"`` (the three battle zones),
        ``"battle_part"`` (one zone per battle and part), or a vector file (GeoPackage,
        shapefile, GeoJSON …) with polygons in any CRS.
    layer : str, optional
        Layer of a multi-layer file (default: the first, with a warning naming the layers).
    id_field : str, optional
        Field that identifies each zone (matched ignoring case; default: the first of
        :data:`ID_FIELDS` present, else the row number, with a warning). Identifiers are text:
        ``"0150"`` stays ``"0150"``; whole numbers stored as floats (``150200.0``, what a null
        in an integer column gives) become ``"150200"``; other floats keep their shortest
        form (``"1.5"``). Empty, null and repeated identifiers are refused.
    source_crs : str, optional
        Override the file's CRS; ``"gcj02"`` for Amap/Gaode coordinates.
    membership : str or Path, optional
        Battle-zone membership CSV for ``"battle"``/``"battle_part"`` (default: the shipped
        ``data/zones/battle_zones.csv``); see :func:`membership`.
    name_field : str, optional
        Field of a file holding the zone names (matched ignoring case); default: the first
        of :data:`NAME_FIELDS` present. Names in Chinese characters go to ``name_zh``, others
        to ``name_en``; a missing name falls back to the identifier.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by the zone identifier (string): the adcode for the administrative levels
        (column ``adcode``), the ``zone`` column for battle zones and a user's file; with
        ``name_zh``, ``name_en``, ``level`` and geometry in WGS84. Battle zones add
        ``n_banners``, ``members`` and ``area_km2`` (see :func:`battle_zones`).
        ``attrs["source"]`` names the origin. A user's file keeps its further fields as
        columns (see :func:`user_attributes`) and records ``attrs["layer"]`` (the layer
        read), ``attrs["id_field"]``, ``attrs["name_fields"]`` (zh, en) and
        ``attrs["user_fields"]``. Text is cleaned of control characters (with a warning).

    Raises
    ------
    geo.errors.ZoneError
        Unknown level name, no polygons, duplicate identifiers, a malformed membership table,
        or ``membership`` given for a zone set that is not a battle level.
    geo.errors.DataError, geo.errors.LayerError, geo.errors.CRSError
        Missing or unreadable file, missing layer or field, no CRS.
    """
    options = {"--id-field": id_field, "--name-field": name_field, "--zones-layer": layer}
    options["--source-crs"] = source_crs
    given = [k for k, v in options.items() if v is not None]
    if str(spec) in boundaries.LEVELS + BATTLE_LEVELS and given:
        given = given[0]
        raise ZoneError(
            f"{given} applies to a zone file, not to the zone set {str(spec)!r}; drop it"
        )
    if str(spec) in BATTLE_LEVELS:
        return battle_zones(membership, parts=str(spec) == "battle_part")
    if membership is not None:
        raise ZoneError(
            f"membership={membership} only applies to the zone sets {', '.join(BATTLE_LEVELS)}, "
            f"not to {str(spec)!r}; drop the option or ask for 'battle'"
        )
    if str(spec) in boundaries.LEVELS:
        gdf = boundaries.load(str(spec))
        gdf.index = gdf["adcode"].to_numpy()
        gdf.attrs["source"] = f"shipped boundaries, level {spec}"
        return gdf
    path = Path(spec)
    if not path.exists():
        raise ZoneError(
            f"zones {str(spec)!r} are neither a level "
            f"({', '.join(boundaries.LEVELS + BATTLE_LEVELS)}) nor an "
            "existing file; check the spelling or the path"
        )
    return _from_file(path, layer, id_field, source_crs, name_field)


def _from_file(
    path: Path,
    layer: str | None,
    id_field: str | None,
    source_crs: str | None,
    name_field: str | None = None,
):
    gdf = read_polygons(
        path, layer=layer, source_crs=source_crs, what="zones", layer_option="--zones-layer"
    )
    label = gdf.attrs["source"]
    if source_crs is None:
        check_gcj02_shift(gdf, label)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    field = _id_column(columns, id_field, label)
    ids = _ids(gdf[field], label, field) if field else pd.Series(gdf.index.astype(str))
    if field is None:
        warnings.warn(
            f"{label} has no identifier field ({', '.join(ID_FIELDS)}); the zones are numbered "
            f"0 to {len(gdf) - 1} in file order: choose a field with --id-field",
            GeoWarning,
            stacklevel=3,
        )
    _check_unique(ids, label, field)
    zh, en = _name_columns(gdf, columns, name_field, label)
    used = {c for c in (field, zh, en) if c is not None}
    names_zh = _names(gdf, zh, ids.to_numpy(), label)
    names_en = names_zh if en == zh else _names(gdf, en, names_zh, label)
    out = gpd.GeoDataFrame(
        {"zone": ids.to_numpy(), "name_zh": names_zh, "name_en": names_en, "level": "user"},
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
        index=ids.to_numpy(),
    )
    kept = _user_columns([c for c in columns if c not in used])
    for column, original in kept.items():
        out[column] = gdf[original].to_numpy()
    geometry = out.geometry.name
    out = out[[c for c in out.columns if c != geometry] + [geometry]]  # geometry last
    out.attrs.update(
        source=label,
        layer=gdf.attrs.get("layer"),
        id_field=field,
        name_fields=[zh, en],
        user_fields=list(kept),
    )
    return out


def _match(columns: list[str], wanted: str) -> str | None:
    """The column called ``wanted``: exactly, else ignoring case (None if absent)."""
    if wanted in columns:
        return wanted
    folded = [c for c in columns if str(c).casefold() == wanted.casefold()]
    return folded[0] if folded else None


def _id_column(columns: list[str], id_field: str | None, label: str) -> str | None:
    if id_field is None:
        return next((m for f in ID_FIELDS if (m := _match(columns, f)) is not None), None)
    found = _match(columns, id_field)
    if found is None:
        raise DataError(
            f"{label} has no field {id_field!r}; its fields are: {', '.join(map(str, columns))}"
        )
    return found


def _id_text(value) -> str | None:
    """One identifier as text: whole floats without ``.0``, other floats in shortest form."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            return None
        # a null in an integer column turns it into floats: 150200.0 is the id 150200
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value).strip()


def _ids(values: pd.Series, label: str, field: str) -> pd.Series:
    """Clean string identifiers; refuse null and empty ones, naming the features."""
    ids = pd.Series([_id_text(v) for v in values], dtype=object)
    bad = np.flatnonzero(ids.isna().to_numpy() | (ids == "").to_numpy())
    if bad.size:
        rows = ", ".join(str(i + 1) for i in bad[:10]) + (" …" if bad.size > 10 else "")
        raise ZoneError(
            f"{label}: the identifier field {field!r} is empty for feature(s) {rows}; fill it "
            "or choose another field with --id-field"
        )
    long = np.flatnonzero(ids.str.len().to_numpy() > MAX_ID)
    if long.size:
        raise ZoneError(
            f"{label}: identifiers in {field!r} longer than {MAX_ID} characters (feature "
            f"{long[0] + 1}); choose a short code with --id-field"
        )
    return ids


def _check_unique(ids: pd.Series, label: str, field: str | None) -> None:
    repeated = ids[ids.duplicated(keep=False)]
    if repeated.empty:
        return
    first = sorted(set(repeated))[:10]
    rows = [
        f"{v} (features {', '.join(str(i + 1) for i in repeated.index[repeated == v][:5])})"
        for v in first
    ]
    raise ZoneError(
        f"{label}: zone identifiers in {field or 'the row numbers'!r} repeat: {'; '.join(rows)}"
        "; make them unique or choose another field with --id-field"
    )


def _cjk_share(values: pd.Series) -> float:
    text = [str(v) for v in values if isinstance(v, str) and v]
    return sum(bool(_CJK.search(t)) for t in text) / len(text) if text else 0.0


def _name_columns(
    gdf: gpd.GeoDataFrame, columns: list[str], name_field: str | None, label: str
) -> tuple[str | None, str | None]:
    """The fields of the Chinese and the English names (the same field when there is one).

    ``name_zh``/``name_en`` fields are taken as they are; otherwise a name field whose values
    are mostly Chinese (CJK characters) gives ``name_zh``, one in Latin script ``name_en``.
    ``name_field`` wins the slot its script belongs to.
    """
    chosen = None
    if name_field is not None:
        chosen = _match(columns, name_field)
        if chosen is None:
            raise DataError(
                f"{label} has no field {name_field!r} for --name-field; its fields are: "
                f"{', '.join(map(str, columns))}"
            )
    present = [m for f in NAME_FIELDS if (m := _match(columns, f)) is not None]
    candidates = list(dict.fromkeys([c for c in (chosen, *present) if c is not None]))
    if not candidates:
        return None, None
    chinese = {c: _cjk_share(gdf[c]) >= 0.5 for c in candidates}
    zh_field, en_field = _match(columns, "name_zh"), _match(columns, "name_en")
    first_zh = next((c for c in candidates if chinese[c]), None)
    first_en = next((c for c in candidates if not chinese[c]), None)
    if chosen is not None and chinese[chosen]:
        zh, en = chosen, en_field or first_en
    elif chosen is not None:
        zh, en = zh_field or first_zh, chosen
    else:
        zh, en = zh_field or first_zh, en_field or first_en
    zh = zh or en
    return zh, en or zh


def _names(gdf: gpd.GeoDataFrame, field: str | None, fallback, label: str) -> np.ndarray:
    """Names as text; a missing name takes the fallback, a long one is cut.

    The fallback is the identifier, or the Chinese name for a missing English one.
    """
    if field is None:
        return np.asarray(fallback, dtype=object)
    texts = [_id_text(v) for v in gdf[field]]
    names = np.array([t if t else f for t, f in zip(texts, fallback, strict=True)], dtype=object)
    long = np.flatnonzero([len(n) > MAX_NAME for n in names])
    if long.size:
        rows = ", ".join(str(i + 1) for i in long[:10]) + (" …" if long.size > 10 else "")
        warnings.warn(
            f"{label}: names in {field!r} longer than {MAX_NAME} characters cut to {MAX_NAME} "
            f"(feature(s) {rows}); is {field!r} a description? choose --name-field",
            GeoWarning,
            stacklevel=4,
        )
        names[long] = [n[: MAX_NAME - 1] + "…" for n in names[long]]
    return names


def _user_columns(fields: list[str]) -> dict[str, str]:
    """The gdf column of each further user field: its own name, or ``user_<name>``.

    ``user_<name>`` when the name (ignoring case) is one the toolkit reads
    (:data:`RESERVED_FIELDS`) or is already taken.
    """
    taken = {f.casefold() for f in RESERVED_FIELDS}
    out = {}
    for field in fields:
        column, n = str(field), 1
        while column.casefold() in taken:
            column = f"user_{field}" if n == 1 else f"user{n}_{field}"
            n += 1
        taken.add(column.casefold())
        out[column] = field
    return out


def user_attributes(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """The attributes of a user's zone file carried beside the toolkit's columns.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        From :func:`load` on a file (any other zone set has none).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``gdf`` (the zone identifier), one column per further field of the file
        in file order (not the identifier and name fields, which are ``zone``, ``name_zh``,
        ``name_en``). A field whose name the toolkit uses (:data:`RESERVED_FIELDS`, compared
        ignoring case) is renamed ``user_<name>``. Empty (no column) for shipped zone sets.
    """
    fields = [c for c in gdf.attrs.get("user_fields", []) if c in gdf.columns]
    return pd.DataFrame(gdf[fields]) if fields else pd.DataFrame(index=gdf.index)


def context_overlays() -> gpd.GeoDataFrame:
    """Return the Natural Earth desert polygons near Inner Mongolia, for map display.

    Natural Earth (1:10M, physical regions) has outlines for the Mu Us Desert and the Gobi
    Desert only; it has none for Kubuqi, Tengger, Badain Jaran, Ulan Buh, Horqin or
    Hunshandake. The outlines are generalised: do not compute areas or statistics on them.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name``, ``featurecla`` (``"Desert"``), ``note`` and geometry in WGS84,
        indexed by ``name``.

    Raises
    ------
    geo.errors.DataError, geo.errors.LayerError
        Missing context file or layer.
    """
    path = data_path(*_CONTEXT_FILE)
    gdf = read_polygons(path, layer="geography_regions", what="context layer")
    deserts = gdf.loc[gdf["featurecla"] == "Desert", ["name", "featurecla", "geometry"]]
    deserts = deserts.reset_index(drop=True)
    deserts.insert(2, "note", _OVERLAY_NOTE)
    deserts.index = deserts["name"].to_numpy()
    deserts.attrs["source"] = f"{path} (layer geography_regions, featurecla Desert)"
    return deserts
