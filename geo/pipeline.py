"""The main job's computation, below its presentation: derived layers → indicators per zone set.

:func:`compute_all` derives the layers (cached), loads each zone set once as a
:class:`geo.zones.ZoneSet`, builds each zone set's coverage on the grid once per run (a
:class:`geo.context.ZonalContext`) and computes every indicator, the method variants
(:func:`zone_variants`) and the region-wide method sensitivity (:func:`sensitivity_table`)
from the run's own configuration. :class:`Results` holds it all for :mod:`geo.report` (which
only writes) and for notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.context import ZonalContext
from geo.errors import UsageError
from geo.zoneset import ZoneSet, as_zone_set

__all__ = [
    "REPORT_LEVELS",
    "SENSITIVITY",
    "Results",
    "compute_all",
    "sensitivity_table",
    "zone_variants",
]

#: Zone sets of the report, in order.
REPORT_LEVELS = ("province", "league", "county", "battle", "battle_part")


@dataclass
class Results:
    """Everything the main job computed, before it is presented.

    Attributes
    ----------
    wide : dict of str to DataFrame
        One row per zone and level (the report's tables); the first column is the zone
        set's id column (:attr:`geo.zones.ZoneSet.id_column`).
    long : dict of str to DataFrame
        The tidy tables of :func:`geo.indicators.compute`.
    zones : dict of str to geo.zones.ZoneSet
        The zone sets (geometry in WGS84, id column declared).
    layers : dict of str to Layer
        The derived layers used.
    corrections : geopandas.GeoDataFrame, optional
        The user's corrections applied to the derived layers.
    config : geo.layers.derive.DeriveConfig
        The derivation parameters the layers were made with.
    context : geo.context.ZonalContext, optional
        The run's coverages (each zone set's coverage on the grid, built once).
    landcover : geo.landcover.LandCover, optional
        The user's fine land-cover raster and scheme (``--landcover``), if any.
    """

    wide: dict[str, pd.DataFrame]
    long: dict[str, pd.DataFrame]
    zones: dict[str, ZoneSet]
    layers: dict
    corrections: gpd.GeoDataFrame | None = None
    config: object = None  # the DeriveConfig the derived layers were made with
    context: ZonalContext | None = None
    landcover: object = None  # geo.landcover.LandCover of --landcover

    def _repr_html_(self) -> str:
        """Jupyter view: zone sets computed and the headline indicators of the widest set."""
        import html

        from geo.indicators import headline

        levels = ", ".join(f"{html.escape(k)} ({len(v)})" for k, v in self.wide.items())
        level = next(iter(self.wide))
        table = self.wide[level]
        keys = [c for c in headline() if c in table]
        table = table[[self.zones[level].id_column, "name_zh", "name_en", *keys]]
        return (
            f"<p><b>barrier results</b> — zone sets: {levels}. Values are remote-sensing proxies "
            "unless marked official (see <code>long[level].official</code>).</p>"
            + table.head(15).to_html(index=False, float_format=lambda v: f"{v:.1f}", escape=True)
        )

    def with_geometry(self, level: str, table: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
        """The wide table of ``level`` (or ``table``) joined to its zone geometries by id.

        Parameters
        ----------
        level : str
            A zone set of the results.
        table : pandas.DataFrame, optional
            A table of that zone set holding its id column (default ``wide[level]``).

        Returns
        -------
        geopandas.GeoDataFrame
            The table, same rows, with the zone geometry in WGS84.
        """
        return self.zones[level].join(self.wide[level] if table is None else table)


def compute_all(
    *,
    levels=REPORT_LEVELS,
    redline=None,
    user_zones=None,
    treated=None,
    treatable=None,
    corrections=None,
    membership=None,
    config=None,
    extra_layers=(),
    cache=None,
    force=False,
    progress=None,
    verdicts=False,
    landcover=None,
    landcover_scheme=None,
    forest=None,
    grassland=None,
    sandified=None,
    sandified_field=None,
) -> Results:
    """Compute every indicator for each zone set (derived layers and coverages cached).

    The coverage of each zone set on the grid is built once for the whole run
    (``<cache>/coverage``). Zone sets whose zones may overlap (battle parts, a user's file) get
    the columns ``overlaps_with`` and ``overlap_area_km2`` (km²,
    :func:`geo.indicators.overlaps`).

    Parameters
    ----------
    levels : sequence of str
        Shipped zone sets to compute, in order (default :data:`REPORT_LEVELS`).
    redline : geopandas.GeoDataFrame, optional
        Polygons of the official ecological red line (replaces the red-line proxy).
    user_zones : geo.zones.ZoneSet or geopandas.GeoDataFrame, optional
        A user's zones (a GeoDataFrame from :func:`geo.zones.load` on a file), added as the
        level ``user``.
    treated, treatable : geopandas.GeoDataFrame, optional
        Polygons of the official treated and treatable sandified land (both needed for R3).
    corrections : geopandas.GeoDataFrame, optional
        Polygons overriding derived classes (see :func:`geo.layers.derive.apply_corrections`).
    membership : str or Path, optional
        A battle-zone membership CSV replacing the shipped one.
    config : geo.layers.derive.DeriveConfig, optional
        The derivation parameters (default ``DeriveConfig()``).
    extra_layers : sequence of geo.layers.Layer
        Layers summarised per zone beside the indicators (mean of value layers, class areas
        of class layers, km²).
    cache : str or Path, optional
        Cache folder of derived layers and coverages (default :func:`geo.data.cache_dir`).
    force : bool
        Rebuild every cached layer and coverage.
    progress : callable, optional
        Called with a message before each step.
    verdicts : bool
        Also compute every zone under the method variants of :data:`SENSITIVITY`
        (:func:`zone_variants`) and give each targeted value a verdict with its variant
        range (:func:`geo.indicators.add_verdicts`).
    landcover : str, path or geo.landcover.LandCover, optional
        A fine land-cover raster (``--landcover``; any grid and CRS, never resampled): forest
        area and coverage, grassland area, cropland area (``cropland_area``) and grassland
        cover come from it (:meth:`geo.landcover.LandCover.apply`), still labelled proxies.
    landcover_scheme : str, path or geo.landcover.Scheme, optional
        Its scheme: ``clcd``, ``worldcover``, ``glc_fcs30``, ``igbp`` or a CSV table
        (``code,name,group``); needed with ``landcover``.
    forest, grassland, sandified : path or geopandas.GeoDataFrame, optional
        Official layers (:mod:`geo.official`): forest-land polygons or a 0/1 forest raster,
        grassland polygons, sandification-monitoring polygons with a degree field
        (``sandified_field``). Their values replace the proxies, marked official (``basis``);
        each proxy is kept beside (``forest_cover_proxy_pct`` …). Areas are exact polygon
        intersections in the equal-area CRS; overlapping polygons count once.
    sandified_field : str, optional
        The degree field of ``sandified`` (轻度/中度/重度/极重度, light … extreme or 1–4).

    Returns
    -------
    Results
        The wide and long tables per level (indicators in %, areas in km²), the zone sets,
        the derived layers, the corrections, the configuration and the run's coverages.

    Examples
    --------
    >>> from geo.pipeline import compute_all
    >>> results = compute_all(levels=("league",))  # doctest: +SKIP
    >>> results.wide["league"][["name_en", "grassland_fvc_pct"]].head(3)  # doctest: +SKIP
    """
    from geo import indicators
    from geo.data import cache_dir
    from geo.landcover import as_landcover
    from geo.layers.derive import DeriveConfig, apply_corrections, derived_layers

    say = progress or (lambda _msg: None)
    cache = Path(cache or cache_dir())
    landcover = as_landcover(landcover, landcover_scheme)  # checked before any work
    # official layers: read and dissolved once for every zone set (geo.official)
    from geo.official import collect

    official = collect(
        redline=redline,
        forest=forest,
        grassland=grassland,
        sandified=sandified,
        sandified_field=sandified_field,
    )
    say("derived layers (FVC, land-cover groups, sandified land, red-line proxy)")
    layers = derived_layers(config, cache=cache, force=force)
    if corrections is not None:
        say("applying corrections")
        layers = apply_corrections(layers, corrections, cache=cache, force=force)
    paths = _layer_paths(layers)
    context = ZonalContext(cache / "coverage", force=force)
    results = Results({}, {}, {}, layers, corrections, config or DeriveConfig(), context)
    results.landcover = landcover
    sets = [(level, None) for level in levels]
    if user_zones is not None:
        sets.append(("user", user_zones))
    for level, given in sets:
        say(f"indicators for {level}")
        zone_set = _zone_set(level, given, membership)
        results.long[level] = indicators.compute(
            zone_set,
            paths,
            official=official,
            treated=treated,
            treatable=treatable,
            context=context,
        )
        if landcover is not None:  # the fine land cover's values (geo.landcover)
            results.long[level] = landcover.apply(results.long[level], zone_set, paths, context)
        results.zones[level] = zone_set
    variants = {}
    if verdicts:
        variants = zone_variants(
            results.zones,
            config=results.config,
            corrections=corrections,
            cache=cache,
            force=force,
            progress=say,
            context=context,
            landcover=landcover,
        )
    for level, zone_set in results.zones.items():
        long = results.long[level]
        if verdicts:
            long = results.long[level] = indicators.add_verdicts(long, variants.get(level))
        table = indicators.wide(long, zone_set.id_column)
        if level in ("battle_part", "user"):  # zones that may share ground
            shared = indicators.overlaps(zone_set).loc[table[zone_set.id_column]]
            table = pd.concat([table, shared.set_axis(table.index)], axis=1)
        if extra_layers:
            table = _with_layers(table, zone_set, extra_layers, context)
        results.wide[level] = table
    return results


def _zone_set(level: str, given, membership) -> ZoneSet:
    """The zone set of ``level`` (or the user's), its text cleaned of control characters."""
    from geo.battles import BATTLE_LEVELS
    from geo.tables import clean_text

    if given is None:
        own_table = membership if level in BATTLE_LEVELS else None
        zone_set = ZoneSet.load(level, membership=own_table)
    else:
        zone_set = as_zone_set(given)
    # names from users' files may hold control characters: removed once, with a warning
    frame = zone_set.frame
    cleaned = clean_text(frame, zone_set.source)
    if cleaned is frame:
        return zone_set
    cleaned = gpd.GeoDataFrame(cleaned, geometry=frame.geometry.name, crs=frame.crs)
    cleaned.attrs = frame.attrs
    return ZoneSet(cleaned, id_column=zone_set.id_column, level=zone_set.level)


def _layer_paths(layers: dict) -> dict:
    """Paths of the derived layers by name, and of the shipped land cover."""
    from geo.layers import catalogue

    paths = {name: layer.path for name, layer in layers.items()}
    paths["landcover"] = catalogue()["landcover"].path
    return paths


#: Alternative derivations shown beside the run's own method (the first entry, relabelled
#: with the run's actual NDVI and corrections), to document each choice and its effect. Each
#: changes one choice of the run's configuration (its NDVI, parameters and corrections
#: otherwise kept).
SENSITIVITY = (
    ("default: NDVI maximum, soil/veg = 5th/95th percentiles", {}),
    ("NDVI soil/veg = 2nd/98th percentiles", {"soil_pct": 2.0, "veg_pct": 98.0}),
    (
        "Copernicus late-June NDVI, per-pixel NDVI min/max climatology",
        {"fvc_method": "pixel", "ndvi": "ndvi"},
    ),
    ("NDVI = Copernicus late-June long-term mean", {"ndvi": "ndvi"}),
    (
        "forest = IGBP forests 1-5 only (no woody savanna, no shrub forest)",
        {"forest_classes": (1, 2, 3, 4, 5), "shrub_forest_classes": ()},
    ),
    ("sandified: FVC cap 40 % (moderate and worse only)", {"sandified_max_fvc_pct": 40.0}),
)


def _describe(config, corrections) -> str:
    """Label of the run's own method (first row of the sensitivity table)."""
    ndvi = {"ndvi_max": "NDVI maximum", "ndvi": "Copernicus late-June NDVI"}.get(
        config.ndvi, f"NDVI = {Path(config.ndvi).name}"
    )
    if config.fvc_method == "pixel":
        fvc = "per-pixel NDVI min/max climatology"
    else:
        fvc = f"soil/veg = {config.soil_pct:g}th/{config.veg_pct:g}th percentiles"
    label = f"this report's method: {ndvi}, {fvc}"
    if corrections is not None:
        label += f", with {len(corrections)} user correction(s)"
    return label


def _reset_scale(change: dict) -> dict:
    """An alternative NDVI layer drops the scale/offset given for the user's NDVI file."""
    return {**change, "ndvi_scale": None, "ndvi_offset": None} if "ndvi" in change else change


def _context(context, cache, force: bool) -> ZonalContext:
    """The run's zonal context, or a new one on the disk cache of ``cache``."""
    if context is not None:
        return context
    from geo.data import cache_dir

    return ZonalContext(Path(cache or cache_dir()) / "coverage", force=force)


def sensitivity_table(
    *,
    config=None,
    corrections=None,
    layers=None,
    cache=None,
    force: bool = False,
    progress=None,
    context: ZonalContext | None = None,
    landcover=None,
) -> pd.DataFrame:
    """Region-wide proxies under the run's method and alternatives (see :data:`SENSITIVITY`).

    Parameters
    ----------
    config : geo.layers.derive.DeriveConfig, optional
        The run's derivation parameters (``--ndvi`` …); default ``DeriveConfig()``. The first
        row uses exactly them; every other row changes one choice.
    corrections : geopandas.GeoDataFrame, optional
        The run's corrections, applied in every row so that rows differ by the method only.
    layers : dict of str to Layer, optional
        The run's own (corrected) derived layers, reused for the first row.
    cache : path, optional
        Cache folder of derived layers and coverages (default :func:`geo.data.cache_dir`).
    force : bool
        Recompute cached derived and corrected layers (and, without ``context``, the
        province's coverage).
    progress : callable, optional
        ``progress(message)`` called for each choice.
    context : geo.context.ZonalContext, optional
        The run's coverages (:attr:`Results.context`): the province's coverage is not built
        again.
    landcover : geo.landcover.LandCover, optional
        The run's fine land cover (:attr:`Results.landcover`): its values are used in every
        row (grassland cover over its grassland, with each row's FVC).

    Returns
    -------
    pandas.DataFrame
        One row per choice: ``choice`` and the region-wide value (%) of each method-sensitive
        indicator (:func:`geo.indicators.sensitive`).
    """
    from geo import indicators

    context = _context(context, cache, force)
    province = ZoneSet.load("province")
    rows = []
    for label, paths, _own in _variant_paths(config, corrections, layers, cache, force, progress):
        long = indicators.compute(province, paths, context=context)
        if landcover is not None:
            long = landcover.apply(long, province, paths, context)
        values = long.set_index("indicator")["value"]
        rows.append({"choice": label, **{key: values[key] for key in indicators.sensitive()}})
    return pd.DataFrame(rows)


def _variant_paths(config, corrections, layers, cache, force, progress, what="method sensitivity"):
    """``(label, layer paths, is the run's own method)`` for each choice of :data:`SENSITIVITY`.

    Derived (and corrected) layers of each variant come from the cache when made before.
    """
    from geo.layers.derive import DeriveConfig, apply_corrections, derived_layers

    config = config or DeriveConfig()
    choices = [
        (label, replace(config, **_reset_scale(change)))
        if change
        else (_describe(config, corrections), None)
        for label, change in SENSITIVITY
    ]
    for label, alternative in choices:
        if progress:
            progress(f"{what}: {label}")
        if alternative is None and layers is not None:
            used = layers
        else:
            used = derived_layers(alternative or config, cache=cache, force=force)
            if corrections is not None:
                # polygons that change nothing were said for the run's own layers
                used = apply_corrections(
                    used, corrections, cache=cache, force=force, warn_idle=False
                )
        yield label, _layer_paths(used), alternative is None


def zone_variants(
    zone_sets: dict,
    *,
    config=None,
    corrections=None,
    cache=None,
    force: bool = False,
    progress=None,
    context: ZonalContext | None = None,
    landcover=None,
) -> dict[str, pd.DataFrame]:
    """Every zone's method-sensitive proxies under each alternative method of :data:`SENSITIVITY`.

    The run's own method is left out (its values are the run's tables). Derived layers and
    coverages come from the cache (the alternatives' layers are the ones the region-wide
    :func:`sensitivity_table` derives anyway): on the shipped data the five alternatives over
    the five zone sets add about 2.5 s to :func:`compute_all` (3.2 s → 5.7 s in one process,
    warm cache, 2 cores), about 0.25 s per zone set and variant.

    Parameters
    ----------
    zone_sets : dict of str to ZoneSet or GeoDataFrame
        The zone sets by level (as in :attr:`Results.zones`).
    config, corrections, cache, force, progress
        As for :func:`sensitivity_table`.
    context : geo.context.ZonalContext, optional
        The run's coverages (default: a new context on ``<cache>/coverage``).
    landcover : geo.landcover.LandCover, optional
        The run's fine land cover: each variant's values use it too (a variant then changes
        grassland cover through its FVC only; forest coverage from the fine map is the same
        in every variant).

    Returns
    -------
    dict of str to DataFrame
        Per level: ``id``, ``indicator`` (one of the method-sensitive proxies), ``choice``
        and ``value`` (unit of the indicator), one row per zone, indicator and alternative.
    """
    from geo import indicators
    from geo.data import cache_dir

    cache = Path(cache or cache_dir())
    context = _context(context, cache, force)
    zone_sets = {level: as_zone_set(z) for level, z in zone_sets.items()}
    frames: dict[str, list] = {level: [] for level in zone_sets}
    variants = _variant_paths(
        config, corrections, None, cache, force, progress, "method variants per zone"
    )
    for label, paths, own in variants:
        if own:
            continue
        for level, zone_set in zone_sets.items():
            long = indicators.compute(zone_set, paths, context=context)
            if landcover is not None:
                long = landcover.apply(long, zone_set, paths, context)
            keep = long[long["indicator"].isin(indicators.sensitive())]
            frames[level].append(keep[["id", "indicator", "value"]].assign(choice=label))
    return {level: pd.concat(f, ignore_index=True) for level, f in frames.items() if f}


def _with_layers(
    table: pd.DataFrame, zone_set: ZoneSet, layers, context: ZonalContext
) -> pd.DataFrame:
    """Append per-zone statistics of extra layers to a wide indicator table.

    Value layers give ``<layer>_mean``, ``_min`` and ``_max``; class layers give the class
    areas ``<layer>_area_km2_<class>``; both give their valid and outside areas. Layer names
    are made unique by :func:`geo.tables.name_layers`. Coverages come from the run's context.
    """
    from geo.tables import stats_table

    stats = ("count", "mean", "min", "max")
    if any(layer.categorical for layer in layers):
        stats += ("area",)  # class layers only; value layers ignore it
    extra = stats_table(zone_set.frame, layers, stats, cache_dir=context.cache_dir, context=context)
    keep = [c for c in extra.columns[4:] if not c.endswith(("_count", "_nodata_area_km2"))]
    clash = sorted(set(keep) & set(table.columns))
    if clash:
        raise UsageError(
            f"--layer columns {clash} would replace indicator columns of the same name; "
            "rename the layer's file"
        )
    # both tables hold one row per zone in the zone set's order
    return pd.concat([table, extra[keep].set_axis(table.index)], axis=1)
