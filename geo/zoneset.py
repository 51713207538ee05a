"""The zone-set contract: one id column, WGS84 geometry, derived geometry computed once.

A :class:`ZoneSet` is what every computation of the toolkit receives: a frame of zones indexed
by their identifier (text), with ONE declared identifier column (:attr:`ZoneSet.id_column`:
``adcode`` for the administrative levels, ``zone`` for the battle zones and a user's zones),
``name_zh``/``name_en``, ``level`` and polygons in WGS84. Everything derived from the
geometry (its key, equal-area geometry, areas, reprojections, simplified outlines) is
computed once per zone set and cached; the zone set is immutable, so the cache cannot go
stale (:attr:`ZoneSet.frame` hands out copies).

Examples
--------
>>> from geo.zones import ZoneSet
>>> leagues = ZoneSet.load("league")
>>> leagues.id_column, len(leagues)
('adcode', 12)
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import EQUAL_AREA, WGS84
from geo.errors import CRSError, ZoneError

__all__ = ["ID_COLUMNS", "ZoneSet", "as_zone_set", "level_of"]

#: The identifier column of each kind of zone set (a user's zones: ``zone``).
ID_COLUMNS = {
    "province": "adcode",
    "league": "adcode",
    "county": "adcode",
    "battle": "zone",
    "battle_part": "zone",
    "user": "zone",
}
#: Zone sets of the toolkit whose ``area_km2`` column is the loader's (documented) area.
_SHIPPED = ("province", "league", "county", "battle", "battle_part")
_CORE = ("_frame", "id_column", "level", "source")


class ZoneSet:
    """An immutable zone set with its identifier column declared.

    Build with :meth:`load` (a level name or a polygon file) or :meth:`from_frame` (your own
    GeoDataFrame); :func:`as_zone_set` accepts either a zone set or a GeoDataFrame.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The zones: the column ``id_column`` (unique, non-empty text), ``name_zh``,
        ``name_en``, ``level`` and polygon geometry with a CRS (reprojected to WGS84).
    id_column : str
        The identifier column (``"adcode"`` or ``"zone"``).
    level : str
        Kind of zone set: ``province``, ``league``, ``county``, ``battle``,
        ``battle_part`` or ``user``.
    source : str, optional
        Where the zones come from (default ``frame.attrs["source"]``).

    Attributes
    ----------
    id_column : str
        The one identifier column of every table written for this zone set.
    level : str
    source : str

    Raises
    ------
    geo.errors.ZoneError
        Missing columns, empty or repeated identifiers.
    geo.errors.CRSError
        Geometry without a CRS.
    """

    def __init__(
        self, frame: gpd.GeoDataFrame, *, id_column: str, level: str, source: str | None = None
    ) -> None:
        label = source or frame.attrs.get("source") or f"zone set {level}"
        missing = [c for c in (id_column, "name_zh", "name_en", "level") if c not in frame]
        if missing:
            raise ZoneError(f"{label} lacks the column(s) {', '.join(missing)}")
        if frame.crs is None:
            raise CRSError(f"{label} has no CRS; set it with frame.set_crs(...) first")
        frame = frame.to_crs(WGS84) if not CRS(frame.crs).equals(WGS84) else frame.copy()
        ids = _text_ids(frame[id_column], label, id_column)
        frame[id_column] = ids
        frame.index = pd.Index(ids, dtype=object)
        frame.attrs = dict(frame.attrs, source=label)
        object.__setattr__(self, "_frame", frame)
        object.__setattr__(self, "id_column", id_column)
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "source", label)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def load(cls, spec, **options) -> ZoneSet:
        """Load a zone set by level name or from a polygon file.

        Parameters
        ----------
        spec : str or Path
            As for :func:`geo.zones.load`: a level name or a vector file.
        **options
            The options of :func:`geo.zones.load` (``layer``, ``id_field``, ``source_crs``,
            ``membership``, ``name_field``).

        Returns
        -------
        ZoneSet

        Examples
        --------
        >>> ZoneSet.load("battle").id_column
        'zone'
        >>> mine = ZoneSet.load("my_zones.gpkg", id_field="code")  # doctest: +SKIP
        >>> mine.level, mine.id_column  # doctest: +SKIP
        ('user', 'zone')
        """
        from geo import zones

        frame = zones.load(spec, **options)
        level = str(spec) if str(spec) in ID_COLUMNS else "user"
        return cls(frame, id_column=ID_COLUMNS[level], level=level)

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame, *, level: str | None = None) -> ZoneSet:
        """Wrap your own GeoDataFrame (or one of :func:`geo.zones.load`) as a zone set.

        Parameters
        ----------
        frame : geopandas.GeoDataFrame
            Polygons with a CRS. The level is ``level``, else the frame's single ``level``
            value, else ``"user"``. The identifiers are the level's id column
            (:data:`ID_COLUMNS`); a user's frame without a ``zone`` column takes its index as
            text. Missing ``name_zh``/``name_en`` fall back to the identifier.
        level : str, optional
            Kind of zone set (a key of :data:`ID_COLUMNS`).

        Returns
        -------
        ZoneSet
        """
        if not isinstance(frame, gpd.GeoDataFrame):
            raise ZoneError(
                f"zones must be a GeoDataFrame or a ZoneSet, not {type(frame).__name__}"
            )
        level = level or level_of(frame)
        if level not in ID_COLUMNS:
            raise ZoneError(f"unknown zone-set level {level!r}; use one of {', '.join(ID_COLUMNS)}")
        id_column = ID_COLUMNS[level]
        frame = frame.copy()
        if id_column not in frame:
            if id_column == "adcode":
                raise ZoneError(f"zone set {level!r} lacks its identifier column 'adcode'")
            frame.insert(0, id_column, [str(i) for i in frame.index])
        for name in ("name_zh", "name_en"):
            if name not in frame:
                frame[name] = frame[id_column].astype(str).to_numpy()
        if "level" not in frame:
            frame["level"] = level
        if level not in _SHIPPED and "area_km2" in frame:
            # only the toolkit's loaders declare the area; a user's column may be in mu
            frame = frame.rename(columns={"area_km2": "user_area_km2"})
        return cls(frame, id_column=id_column, level=level)

    # -- the zones ---------------------------------------------------------------------------

    @property
    def frame(self) -> gpd.GeoDataFrame:
        """A copy of the zones (GeoDataFrame in WGS84, indexed by the identifier text)."""
        out = self._frame.copy()
        out.attrs = dict(self._frame.attrs)
        return out

    @property
    def attrs(self) -> dict:
        """A copy of the frame's ``attrs`` (``source``, a file's ``layer`` and fields …)."""
        return dict(self._frame.attrs)

    @property
    def ids(self) -> pd.Index:
        """The zone identifiers (text), in order."""
        return self._frame.index.copy()

    @property
    def crs(self) -> CRS:
        """WGS84."""
        return WGS84

    def __len__(self) -> int:
        """Number of zones."""
        return len(self._frame)

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse: a zone set is immutable (AttributeError)."""
        raise AttributeError(f"a ZoneSet is immutable; make a new one (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        """Refuse: a zone set is immutable (AttributeError)."""
        raise AttributeError(f"a ZoneSet is immutable (cannot delete {name!r})")

    def __getstate__(self) -> dict:
        """The state to pickle: the core attributes, without the caches."""
        # the caches are left out: an unpickled zone set recomputes its key from its zones
        return {name: self.__dict__[name] for name in _CORE}

    def __setstate__(self, state: dict) -> None:
        """Restore a pickled zone set (bypassing the immutability guard)."""
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        """``ZoneSet('<level>', <n> zones, id column '<column>')``."""
        return f"ZoneSet({self.level!r}, {len(self)} zones, id column {self.id_column!r})"

    def _repr_html_(self) -> str:
        """Jupyter view: level, id column, source, key and the first zones with their areas."""
        import html

        head = pd.DataFrame(
            {
                self.id_column: self._frame.index,
                "name_zh": self._frame["name_zh"].to_numpy(),
                "name_en": self._frame["name_en"].to_numpy(),
                "area_km2": self.area_km2,
            }
        ).head(15)
        return (
            f"<p><b>ZoneSet</b> {html.escape(self.level)} — {len(self)} zones, id column "
            f"<code>{html.escape(self.id_column)}</code>, source {html.escape(self.source)}, "
            f"key <code>{self.key[:12]}</code></p>"
            + head.to_html(index=False, float_format=lambda v: f"{v:,.1f}", escape=True)
        )

    # -- derived, computed once ----------------------------------------------------------------

    @cached_property
    def key(self) -> str:
        """SHA-256 (hex) of the id column, the identifiers and the WKB of the WGS84 geometry.

        Stable across processes and pickling; any moved vertex or renamed zone changes it.
        """
        h = hashlib.sha256()
        h.update(self.id_column.encode())
        for zone in self._frame.index:
            h.update(b"\0" + str(zone).encode())
        h.update(b"\1")
        geoms = np.asarray(self._frame.geometry.values, dtype=object)
        for wkb in shapely.to_wkb(geoms, byte_order=1):
            h.update(b"\0" if wkb is None else len(wkb).to_bytes(8, "little") + wkb)
        return h.hexdigest()

    @cached_property
    def _geometries(self) -> dict:
        return {}

    def geometry_in(self, crs) -> gpd.GeoSeries:
        """The zone geometry in ``crs`` (reprojected once per CRS), indexed by identifier.

        Parameters
        ----------
        crs : str, int or pyproj.CRS
            Target CRS.

        Returns
        -------
        geopandas.GeoSeries
            A new series on each call (the geometries themselves are shared and immutable).
        """
        target = CRS.from_user_input(crs)
        key = target.to_wkt()
        geoms = self._geometries.get(key)
        if geoms is None:
            geoms = np.asarray(self._frame.geometry.to_crs(target).values, dtype=object)
            geoms.setflags(write=False)
            self._geometries[key] = geoms
        return gpd.GeoSeries(geoms.copy(), index=self._frame.index.copy(), crs=target)

    @property
    def equal_area(self) -> gpd.GeoSeries:
        """The geometry in the toolkit's equal-area CRS (:data:`geo.crs.EQUAL_AREA`), metres."""
        return self.geometry_in(EQUAL_AREA)

    @cached_property
    def area_km2(self) -> np.ndarray:
        """Area of each zone, km² (read-only array).

        The toolkit's zone sets keep their loader's ``area_km2`` (equal-area polygon area; for
        battle zones the sum of the member banners', equal to the union's to 1e-14); any
        other zone set gets the area of its polygons in :data:`geo.crs.EQUAL_AREA`.
        """
        if self.level in _SHIPPED and "area_km2" in self._frame:
            area = self._frame["area_km2"].to_numpy(dtype="float64", copy=True)
        else:
            area = shapely.area(np.asarray(self.equal_area.values, dtype=object)) / 1e6
        area.setflags(write=False)
        return area

    @cached_property
    def _simplified(self) -> dict:
        return {}

    def simplified(self, tolerance: float) -> ZoneSet:
        """The zone set with its outlines simplified, computed once per tolerance.

        Parameters
        ----------
        tolerance : float
            Simplification tolerance in degrees (WGS84). Neighbours keep shared edges
            (:func:`shapely.coverage_simplify`; zones that overlap are simplified each on
            its own edges).

        Returns
        -------
        ZoneSet
            The same object on every call with the same tolerance.
        """
        tolerance = float(tolerance)
        out = self._simplified.get(tolerance)
        if out is None:
            geoms = np.asarray(self._frame.geometry.values, dtype=object)
            simple = np.array(geoms, dtype=object)
            polygonal = shapely.get_type_id(geoms) >= 3
            if tolerance > 0 and polygonal.any():
                simple[polygonal] = shapely.coverage_simplify(geoms[polygonal], tolerance)
            frame = self._frame.copy()
            frame = frame.set_geometry(gpd.GeoSeries(simple, index=frame.index, crs=WGS84))
            frame.attrs = dict(self._frame.attrs)
            out = ZoneSet(frame, id_column=self.id_column, level=self.level, source=self.source)
            self._simplified[tolerance] = out
        return out

    def join(self, table: pd.DataFrame, crs=WGS84) -> gpd.GeoDataFrame:
        """A table with one row per zone joined to the zone geometry by identifier.

        Parameters
        ----------
        table : pandas.DataFrame
            Holds the id column (:attr:`id_column`), any row order.
        crs : optional
            CRS of the geometry (default WGS84).

        Returns
        -------
        geopandas.GeoDataFrame
            ``table`` (same index and row order) with the zone geometry;
            ``attrs["id_column"]`` names the identifier column.

        Raises
        ------
        geo.errors.ZoneError
            The table lacks the id column, or names zones not in the set.
        """
        if self.id_column not in table:
            raise ZoneError(f"the table has no {self.id_column!r} column to join the zones on")
        ids = table[self.id_column].astype(str).to_numpy()
        unknown = sorted(set(ids) - set(self._frame.index))
        if unknown:
            raise ZoneError(f"the table names zones not in {self.source}: {unknown[:5]}")
        geoms = self.geometry_in(crs)
        out = gpd.GeoDataFrame(table, geometry=geoms.loc[ids].to_numpy(), crs=geoms.crs)
        out.attrs["id_column"] = self.id_column  # the contract, for presentation downstream
        return out


def as_zone_set(zones, *, level: str | None = None) -> ZoneSet:
    """A :class:`ZoneSet` as it is, or a GeoDataFrame wrapped by :meth:`ZoneSet.from_frame`.

    Parameters
    ----------
    zones : ZoneSet or geopandas.GeoDataFrame
    level : str, optional
        Kind of zone set of a GeoDataFrame (see :meth:`ZoneSet.from_frame`).

    Returns
    -------
    ZoneSet
        Its :attr:`~ZoneSet.id_column` names the identifier column of every table.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> own = gpd.GeoDataFrame(geometry=[shapely.box(110, 40, 111, 41)], crs=4326)
    >>> as_zone_set(own).id_column
    'zone'
    """
    if isinstance(zones, ZoneSet):
        return zones
    return ZoneSet.from_frame(zones, level=level)


def level_of(frame: gpd.GeoDataFrame) -> str:
    """The frame's single ``level`` value if it names a kind of zone set, else ``"user"``."""
    if "level" in frame and len(frame):
        levels = set(frame["level"].astype(str))
        if len(levels) == 1 and (only := levels.pop()) in ID_COLUMNS:
            return only
    return "user"


def _text_ids(values: pd.Series, label: str, column: str) -> np.ndarray:
    """Identifiers as text; empty or repeated ones are refused, naming them."""
    ids = np.array(["" if pd.isna(v) else str(v).strip() for v in values], dtype=object)
    empty = np.flatnonzero(ids == "")
    if empty.size:
        rows = ", ".join(str(i + 1) for i in empty[:10])
        raise ZoneError(f"{label}: the identifier {column!r} is empty for zone(s) {rows}")
    repeated = pd.Series(ids)[pd.Series(ids).duplicated()].unique()
    if repeated.size:
        raise ZoneError(
            f"{label}: identifiers in {column!r} repeat: {', '.join(map(str, repeated[:10]))}; "
            "make them unique"
        )
    return ids
