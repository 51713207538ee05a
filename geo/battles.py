"""The battle zones of the "Three-North" programme in Inner Mongolia, as zone sets.

The plan (§3) gives no polygon and no banner list: each battle zone is a union of banners read
from a membership table, ``data/zones/battle_zones.csv`` (sources and caveats in
``data/zones/SOURCES.md``). Users may pass an edited copy. A banner union is an administrative
outline, not a desert outline. :func:`geo.zones.load` serves these zone sets as ``"battle"`` and
``"battle_part"``; the names here are re-exported from :mod:`geo.zones`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo import boundaries
from geo.data import data_path
from geo.errors import DataError, ZoneError

__all__ = [
    "BATTLES",
    "BATTLE_LEVELS",
    "CONFIDENCE",
    "MEMBERSHIP_COLUMNS",
    "MEMBERSHIP_FILE",
    "PARTS",
    "Battle",
    "battle_zones",
    "membership",
]

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

#: The shipped membership table, as parts of a path under the data folder.
MEMBERSHIP_FILE = ("zones", "battle_zones.csv")
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
    path = Path(path) if path is not None else data_path(*MEMBERSHIP_FILE)
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
