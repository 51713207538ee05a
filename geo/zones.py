"""Zone sets: the administrative levels, the three battle zones, or a user's own polygon file.

A zone set is a GeoDataFrame with a unique ``zone`` identifier column (the adcode for the
administrative levels), ``name_zh``, ``name_en``, ``level`` and polygon geometry in WGS84.

The battle zones of the "Three-North" programme in Inner Mongolia (plan §3; the plan gives no
polygon and no banner list) are unions of banners read from a membership table,
``data/zones/battle_zones.csv`` (sources and caveats in ``data/zones/SOURCES.md``). Users may
pass an edited copy. A banner union is an administrative outline, not a desert outline; the
Natural Earth desert polygons of :func:`context_overlays` are for display only.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import boundaries
from geo.data import data_path
from geo.errors import DataError, GeoWarning, ZoneError
from geo.vectors import check_gcj02_shift, read_polygons

__all__ = [
    "BATTLES",
    "BATTLE_LEVELS",
    "CONFIDENCE",
    "ID_FIELDS",
    "MEMBERSHIP_COLUMNS",
    "NAME_FIELDS",
    "PARTS",
    "RESERVED_FIELDS",
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

#: Zone-set names served from the battle-zone membership table.
BATTLE_LEVELS = ("battle", "battle_part")

#: Columns of the membership table, in order.
MEMBERSHIP_COLUMNS = (
    "adcode",
    "name_zh",
    "name_en",
    "league_adcode",
    "zone",
    "part",
    "basis",
    "source",
    "confidence",
)
_REQUIRED = ("adcode", "zone", "part", "basis", "confidence")

#: Allowed values of the ``confidence`` column, best first.
CONFIDENCE = ("high", "medium", "low")

_MEMBERSHIP_FILE = ("zones", "battle_zones.csv")
MEMBERSHIP_FILE = _MEMBERSHIP_FILE  # public: geo.cli reads it
_CONTEXT_FILE = ("context", "ne_physical_regions_im.gpkg")
_OVERLAY_NOTE = "Natural Earth 1:10M generalised outline; for display, not area statistics"
_SLUG = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_ADCODE = re.compile(r"\d{6}")


@dataclass(frozen=True)
class Battle:
    """One battle zone of the plan: slug, Chinese name (plan wording) and English name."""

    slug: str
    name_zh: str
    name_en: str


#: The three battles, in the plan's order (plan digest §3; source 002:L35–L37).
BATTLES = {
    b.slug: b
    for b in (
        Battle(
            "jizhiwan",
            "黄河“几字弯”攻坚战",
            "Battle of the Yellow River 'Ji Zi Wan' bend",
        ),
        Battle(
            "horqin_hunshandake",
            "科尔沁和浑善达克沙地歼灭战",
            "Battle of the Horqin and Hunshandake sandy lands",
        ),
        Battle(
            "hexi_taklimakan",
            "河西走廊—塔克拉玛干沙漠边缘阻击战",
            "Battle along the Hexi Corridor–Taklimakan Desert edge",
        ),
    )
}

#: Names of the parts used in the shipped table; other part slugs are allowed and named by slug.
PARTS = {
    "mu_us": ("毛乌素沙地", "Mu Us Sandy Land"),
    "kubuqi": ("库布齐沙漠", "Kubuqi Desert"),
    "ulan_buh": ("乌兰布和沙漠", "Ulan Buh Desert"),
    "badain_jaran": ("巴丹吉林沙漠", "Badain Jaran Desert"),
    "tengger": ("腾格里沙漠", "Tengger Desert"),
    "yinshan_mid_west": (
        "阴山中西段沙化土地",
        "Sandified land of the central and western Yin Mountains",
    ),
    "general": ("其他成员旗县（未指定沙区）", "Other member banners (no sandy land named)"),
    "horqin": ("科尔沁沙地", "Horqin Sandy Land"),
    "hunshandake_east": ("浑善达克沙地东部", "Hunshandake Sandy Land, east"),
    "hunshandake_central": ("浑善达克沙地中部", "Hunshandake Sandy Land, centre"),
    "hunshandake_west": ("浑善达克沙地西部", "Hunshandake Sandy Land, west"),
}


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
    """Names as text; a missing name takes the fallback (the identifier, or the Chinese name
    for a missing English one), a long one is cut."""
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
    """The gdf column of each further user field: its own name, or ``user_<name>`` when the
    name (ignoring case) is one the toolkit reads (:data:`RESERVED_FIELDS`) or already taken."""
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


def membership(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate a battle-zone membership table.

    One row per (banner, zone, part); a banner may sit in two parts of one zone or in two
    zones. Names are taken from :func:`geo.boundaries.load` so they agree with the toolkit.

    Parameters
    ----------
    path : str or Path, optional
        CSV (UTF-8, BOM allowed) with the columns :data:`MEMBERSHIP_COLUMNS`; default the
        shipped ``data/zones/battle_zones.csv``. ``name_zh``, ``name_en``, ``league_adcode``
        may be left empty; if given, ``name_zh`` and ``league_adcode`` must match the adcode.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MEMBERSHIP_COLUMNS`, all strings, in file order;
        ``attrs["source"]`` is the path.

    Raises
    ------
    geo.errors.ZoneError
        Missing column, wrong field count, empty required field, adcode not a county-level
        unit, unknown zone slug, malformed part slug, confidence not high/medium/low, a row
        with neither a source nor an ``inferred`` basis, or a repeated (adcode, zone, part).
        The message names the file, the line (header = line 1) and the fix.
    geo.errors.DataError
        Missing or unreadable file.
    """
    path = Path(path) if path is not None else data_path(*_MEMBERSHIP_FILE)
    lines, records = _read_membership(path)
    counties = boundaries.load("county").set_index("adcode")
    seen: dict[tuple[str, str, str], int] = {}
    for line, rec in zip(lines, records, strict=True):
        _check_row(path, line, rec, counties)
        key = (rec["adcode"], rec["zone"], rec["part"])
        if key in seen:
            raise ZoneError(
                f"{path}, line {line}: banner {key[0]} is listed twice for zone {key[1]!r} part "
                f"{key[2]!r} (first on line {seen[key]}); delete one of the two rows"
            )
        seen[key] = line
        rec["name_zh"] = counties.at[rec["adcode"], "name_zh"]
        rec["name_en"] = counties.at[rec["adcode"], "name_en"]
        rec["league_adcode"] = counties.at[rec["adcode"], "league_adcode"]
    table = pd.DataFrame(records, columns=list(MEMBERSHIP_COLUMNS)).astype(str)
    table.attrs["source"] = str(path)
    return table


def _read_membership(path: Path) -> tuple[list[int], list[dict[str, str]]]:
    if not path.is_file():
        raise DataError(f"battle-zone membership file {path} does not exist; check the path")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            missing = [c for c in MEMBERSHIP_COLUMNS if c not in header]
            if missing:
                raise ZoneError(
                    f"{path}, line 1: the header lacks the column(s) {', '.join(missing)}; "
                    f"the header must be: {','.join(MEMBERSHIP_COLUMNS)}"
                )
            lines, records = [], []
            for fields in reader:
                if not any(f.strip() for f in fields):
                    continue  # blank line
                if len(fields) != len(header):
                    raise ZoneError(
                        f"{path}, line {reader.line_num}: {len(fields)} fields but the header has "
                        f"{len(header)}; quote fields that contain commas and fill empty ones"
                    )
                lines.append(reader.line_num)
                rec = {h: f.strip() for h, f in zip(header, fields, strict=True)}
                records.append({c: rec[c] for c in MEMBERSHIP_COLUMNS})
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {path} ({exc}); save it as UTF-8 CSV") from None
    if not records:
        raise ZoneError(f"{path} has no data rows below the header; add one row per banner")
    return lines, records


def _check_row(path: Path, line: int, rec: dict[str, str], counties: pd.DataFrame) -> None:
    where = f"{path}, line {line}"
    for col in _REQUIRED:
        if not rec[col]:
            raise ZoneError(f"{where}: the {col!r} field is empty; fill it or delete the row")
    adcode = rec["adcode"]
    if not _ADCODE.fullmatch(adcode) or adcode not in counties.index:
        raise ZoneError(
            f"{where}: adcode {adcode!r} is not a county-level unit of Inner Mongolia; use a "
            "6-digit adcode of `geo.boundaries.load('county')` (e.g. 152922 for Alxa Right Banner)"
        )
    if rec["zone"] not in BATTLES:
        raise ZoneError(f"{where}: unknown zone {rec['zone']!r}; use one of: {', '.join(BATTLES)}")
    if not _SLUG.fullmatch(rec["part"]):
        raise ZoneError(
            f"{where}: part {rec['part']!r} is not a slug; use lower-case letters, digits and "
            "underscores (e.g. mu_us)"
        )
    if rec["confidence"] not in CONFIDENCE:
        raise ZoneError(
            f"{where}: confidence {rec['confidence']!r} is not one of {', '.join(CONFIDENCE)}; "
            "use one of these words"
        )
    if not rec["source"] and not rec["basis"].lower().startswith("inferred"):
        raise ZoneError(
            f"{where}: no source; cite one in 'source' or start 'basis' with 'inferred: …'"
        )
    _check_names(where, rec, counties.loc[adcode])


def _check_names(where: str, rec: dict[str, str], unit: pd.Series) -> None:
    for col in ("name_zh", "league_adcode"):
        if rec[col] and rec[col] != unit[col]:
            raise ZoneError(
                f"{where}: {col} {rec[col]!r} does not match adcode {rec['adcode']} "
                f"({unit['name_zh']}, league {unit['league_adcode']}); correct the adcode or "
                f"leave {col} empty"
            )


def battle_zones(path: str | Path | None = None, parts: bool = False) -> gpd.GeoDataFrame:
    """Build the battle zones (or their parts) as dissolved unions of member banners.

    Parameters
    ----------
    path : str or Path, optional
        Membership CSV (see :func:`membership`); default the shipped table.
    parts : bool
        If true, one zone per (battle, part), identified ``"<battle>/<part>"``.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``zone`` (the battle slug, or ``battle/part``), in the plan's order, with
        ``zone``, ``name_zh``, ``name_en``, ``level`` (``"battle"`` or ``"battle_part"``),
        ``battle`` and ``part`` (parts only), ``n_banners``, ``members`` (comma-separated
        adcodes, sorted), ``area_km2`` (km², sum of the member banners' equal-area areas, each
        banner counted once per zone; equal to the area of the union since banners do not
        overlap) and the union geometry in WGS84. A union of banners is an administrative
        outline, not a desert or sandy-land outline.
    """
    table = membership(path)
    keys = ["zone", "part"] if parts else ["zone"]
    counties = boundaries.load("county").set_index("adcode")
    groups = sorted(table.groupby(keys, sort=False), key=lambda kv: _rank(_key(kv[0])))
    rows = [_zone_row(_key(k), sorted(set(g["adcode"])), counties) for k, g in groups]
    level = "battle_part" if parts else "battle"
    frame = pd.DataFrame([r for r, _ in rows])
    frame.insert(3, "level", level)
    if not parts:
        frame = frame.drop(columns=["battle", "part"])
    frame.index = frame["zone"].to_numpy()
    out = gpd.GeoDataFrame(frame, geometry=[g for _, g in rows], crs=counties.crs)
    out.attrs["source"] = f"battle-zone membership {table.attrs['source']} (level {level})"
    out.attrs["note"] = "union of member banners: an administrative outline, not a desert outline"
    return out


def _key(key) -> tuple[str, ...]:
    return key if isinstance(key, tuple) else (key,)


def _rank(key: tuple[str, ...]) -> tuple[int, int, str]:
    # The plan's battle order, then the parts in the order of PARTS, unknown parts last.
    battles, parts = list(BATTLES), list(PARTS)
    part = key[1] if len(key) > 1 else ""
    return battles.index(key[0]), parts.index(part) if part in parts else len(parts), part


def _zone_row(key: tuple[str, ...], members: list[str], counties: gpd.GeoDataFrame):
    battle = BATTLES[key[0]]
    part = key[1] if len(key) > 1 else ""
    zh, en = battle.name_zh, battle.name_en
    if part:
        part_zh, part_en = PARTS.get(part, (part, part))
        zh, en = f"{zh}：{part_zh}", f"{en}: {part_en}"
    row = {
        "zone": f"{battle.slug}/{part}" if part else battle.slug,
        "name_zh": zh,
        "name_en": en,
        "battle": battle.slug,
        "part": part,
        "n_banners": len(members),
        "members": ",".join(members),
        "area_km2": float(counties.loc[members, "area_km2"].sum()),
    }
    return row, shapely.union_all(counties.loc[members, "geometry"].to_numpy())


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
