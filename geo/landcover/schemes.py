"""Land-cover schemes: a product's class codes mapped to the toolkit's groups.

A scheme is a CSV table with the columns ``code``, ``name`` (optional) and ``group``; the
shipped ones (:data:`SCHEMES`) live in ``data/schemes/`` with their legend sources in
``data/schemes/SOURCES.md``. :func:`load_scheme` reads a shipped scheme by name or a
user's table by path, and refuses anything that would give a silently wrong area.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from geo.errors import DataError, UsageError

__all__ = ["CN_CODES", "GROUPS", "GROUP_NAMES", "SCHEMES", "Scheme", "load_scheme"]

#: Names of the shipped schemes (``data/schemes/<name>.csv``).
SCHEMES = ("clcd", "worldcover", "glc_fcs30", "igbp")

#: The toolkit's land-cover groups, in table order; ``nodata`` marks fill values.
GROUPS = (
    "forest",
    "shrub_forest",
    "grassland",
    "cropland",
    "water",
    "wetland",
    "built_up",
    "barren",
    "snow_ice",
    "other",
    "nodata",
)

#: English and Chinese names of the groups.
GROUP_NAMES: Mapping[str, tuple[str, str]] = {
    "forest": ("forest (China's definition)", "乔木林地"),
    "shrub_forest": ("shrub forest (nationally specified)", "国家特别规定灌木林地"),
    "grassland": ("grassland", "草地"),
    "cropland": ("cropland", "耕地"),
    "water": ("water", "水域"),
    "wetland": ("wetland", "湿地"),
    "built_up": ("built-up land", "建设用地"),
    "barren": ("barren and sandy land", "裸地与沙地"),
    "snow_ice": ("snow and ice", "冰川与永久积雪"),
    "other": ("other land", "其他土地"),
    "nodata": ("no data (fill value)", "无数据"),
}

#: Code of each group in the derived ``landcover_cn`` layer (1 forest, 2 shrub forest,
#: 3 grassland, 4 other land, 5 water); ``nodata`` has none.
CN_CODES: Mapping[str, int] = {
    "forest": 1,
    "shrub_forest": 2,
    "grassland": 3,
    "water": 5,
    **{g: 4 for g in ("cropland", "wetland", "built_up", "barren", "snow_ice", "other")},
}


@dataclass(frozen=True)
class Scheme:
    """A land-cover scheme: class code → (class name, group).

    Attributes
    ----------
    name : str
        The shipped scheme's name, or the stem of the user's CSV file.
    path : pathlib.Path
        The CSV table it was read from.
    classes : mapping of int to (str, str)
        Class code → (the product's class name, the group, one of :data:`GROUPS`).
    """

    name: str
    path: Path
    classes: Mapping[int, tuple[str, str]]

    def codes(self, *groups: str) -> tuple[int, ...]:
        """Class codes of the given groups, ascending.

        Parameters
        ----------
        *groups : str
            Groups of :data:`GROUPS`.

        Returns
        -------
        tuple of int
        """
        unknown = sorted(set(groups) - set(GROUPS))
        if unknown:
            raise UsageError(f"unknown land-cover group(s) {unknown}; use {', '.join(GROUPS)}")
        return tuple(sorted(c for c, (_, g) in self.classes.items() if g in groups))

    @property
    def land_codes(self) -> tuple[int, ...]:
        """Codes of every group but ``nodata`` (the land area, water included)."""
        return self.codes(*(g for g in GROUPS if g != "nodata"))

    @property
    def cn_codes(self) -> dict[int, int]:
        """Class code → ``landcover_cn`` code (:data:`CN_CODES`); fill codes are left out."""
        return {c: CN_CODES[g] for c, (_, g) in self.classes.items() if g in CN_CODES}

    def check_codes(self, codes: Iterable[int], raster) -> None:
        """Refuse class codes found in ``raster`` that the scheme does not list.

        Parameters
        ----------
        codes : iterable of int
            Class codes present in the raster (inside the zones).
        raster : str or path
            The raster, for the message.

        Raises
        ------
        DataError
            Naming the raster, the scheme's file and the missing codes.
        """
        missing = sorted(set(int(c) for c in codes) - set(self.classes))
        if missing:
            shown = ", ".join(str(c) for c in missing[:20]) + (" …" if len(missing) > 20 else "")
            raise DataError(
                f"land-cover raster {raster} holds class code(s) {shown} that scheme "
                f"{self.name!r} ({self.path}) does not list; give the right --landcover-scheme "
                "or add the codes to a copy of the scheme CSV (columns code,name,group) and pass it"
            )

    def record(self) -> dict:
        """Provenance of the scheme: name, file, and the codes of each group."""
        groups = {g: list(self.codes(g)) for g in GROUPS if self.codes(g)}
        return {"name": self.name, "path": str(self.path.absolute()), "groups": groups}


def load_scheme(spec: str | Path | Scheme) -> Scheme:
    """Read a land-cover scheme: a shipped one by name, or a user's CSV table.

    Parameters
    ----------
    spec : str, path or Scheme
        One of :data:`SCHEMES`, or the path of a CSV file with the columns ``code``
        (integer class value), ``group`` (one of :data:`GROUPS`) and optionally ``name``.

    Returns
    -------
    Scheme

    Raises
    ------
    UsageError
        ``spec`` is neither a shipped scheme name nor a CSV file name.
    DataError
        The table is missing, unreadable, has no ``code``/``group`` column, a code that
        is not an integer, a code listed twice, or a group that is not one of :data:`GROUPS`.
    """
    if isinstance(spec, Scheme):
        return spec
    text = str(spec).strip()
    if text in SCHEMES:
        from geo.data import data_path

        return _read(data_path("schemes", f"{text}.csv"), text)
    path = Path(text).expanduser()
    if path.suffix.lower() != ".csv":
        raise UsageError(
            f"unknown land-cover scheme {text!r}; use one of {', '.join(SCHEMES)} or a CSV "
            "file (columns code,name,group)"
        )
    if not path.is_file():
        raise DataError(f"land-cover scheme file {path} does not exist; check the path")
    return _read(path, path.stem)


def _read(path: Path, name: str) -> Scheme:
    """The scheme table at ``path``, checked row by row."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
            header = [h.strip().lower() for h in (rows[0].keys() if rows else ())]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(
            f"cannot read land-cover scheme {path}: {exc}; save it as UTF-8 CSV"
        ) from None
    if not rows or not {"code", "group"} <= set(header):
        raise DataError(
            f"land-cover scheme {path} needs a header with the columns code,name,group and one "
            f"row per class (found columns {header or 'none'})"
        )
    classes: dict[int, tuple[str, str]] = {}
    for line, raw in enumerate(rows, start=2):
        row = {str(k).strip().lower(): str(v or "").strip() for k, v in raw.items() if k}
        try:
            code = int(row["code"])
        except ValueError:
            raise DataError(
                f"land-cover scheme {path}, line {line}: code {row['code']!r} is not an integer "
                "class value"
            ) from None
        group = row["group"].lower()
        if group not in GROUPS:
            raise DataError(
                f"land-cover scheme {path}, line {line}: group {row['group']!r} of code {code} "
                f"is not one of {', '.join(GROUPS)}"
            )
        if code in classes:
            raise DataError(f"land-cover scheme {path}, line {line}: code {code} is listed twice")
        classes[code] = (row.get("name") or str(code), group)
    return Scheme(name, path, dict(sorted(classes.items())))
