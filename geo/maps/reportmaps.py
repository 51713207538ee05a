"""The report's web maps and print figures, drawn from the results and the given overlays.

:func:`write_maps` and :func:`write_figures` draw them; nothing is read here.
"""

from __future__ import annotations

from pathlib import Path

from geo.indicators import charted, mapped, marked, printed

__all__ = ["MAP_INDICATORS", "write_figures", "write_maps"]

#: Indicators that get a banner-level web map and appear in the summary.
MAP_INDICATORS = mapped()


def write_maps(
    stage: Path,
    results,
    *,
    deserts=None,
    context=None,
    offline: bool = False,
    basemap: str = "hillshade",
    lang: str = "both",
) -> list[Path]:
    """One banner choropleth per indicator and ``battle_zones.html``; returns the files.

    Self-contained (no network request) unless ``basemap`` is an online one; map texts in
    ``lang``. The battle-zone map colours and labels the three battles, hatches overlapping
    battle parts and shows the Yellow River and the main towns. Everything drawn comes from the
    arguments; nothing is read here.

    Parameters
    ----------
    stage : pathlib.Path
        The report folder; the maps go to ``maps/``.
    results : geo.report.Results
        The zone sets (``province``, ``league``, ``county``, ``battle``, ``battle_part``), their
        wide tables, the derived layers and the corrections.
    deserts : geopandas.GeoDataFrame, optional
        Desert outlines drawn on the battle-zone map (:func:`geo.zones.context_overlays`).
    context : geo.maps.overlays.MapContext, optional
        Rivers and towns of the battle-zone map (:func:`geo.maps.overlays.load_context`).
    offline, basemap, lang
        As for :func:`geo.maps.interactive.choropleth`.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from geo.maps import interactive
    from geo.maps.overlays import Outlines

    banners = results.with_geometry("county")
    battle = results.with_geometry("battle")
    # each zone set simplified once for the six maps it is drawn on
    screen = interactive.screen_geometry(banners)
    leagues = Outlines(interactive.screen_geometry(results.zones["league"].frame), "league", True)
    battle_lines = Outlines(interactive.screen_geometry(battle), "battle", True)
    written = []
    for key in MAP_INDICATORS:
        m = interactive.choropleth(
            screen,
            key,
            indicator=marked(key, banners),  # official when the user gave the layer
            basemap=basemap,
            offline=offline,
            overlays=[leagues, battle_lines],
            lang=lang,
            simplified=True,
        )
        written.append(interactive.save(m, stage / "maps" / f"county_{key}.html"))
    overlays = [
        leagues,
        Outlines(screen, "county", True),
        *([deserts] if deserts is not None else []),
        *([results.corrections] if results.corrections is not None else []),
        results.layers["sandified"],
        results.layers["fvc"],
        "landcover",
    ]
    parts = results.with_geometry("battle_part") if "battle_part" in results.wide else None
    m = interactive.battle_zone_map(
        battle,
        parts=parts,
        column="sandified_pct",
        indicator=marked("sandified_pct", battle),
        basemap=basemap,
        offline=offline,
        overlays=overlays,
        context=context,
        region=results.zones["province"].frame.union_all(),
        lang=lang,
    )
    written.append(interactive.save(m, stage / "maps" / "battle_zones.html"))
    return written


def write_figures(stage: Path, results, *, context=None) -> list[Path]:
    """Print maps and charts (PNG 300 dpi and SVG) under ``figures/``; returns the files.

    Parameters
    ----------
    stage : pathlib.Path
        The report folder; the figures go to ``figures/``.
    results : geo.report.Results
        Zone sets, wide tables and derived layers (nothing is read here).
    context : geo.maps.overlays.MapContext, optional
        Rivers and towns of the battle-zone figure (:func:`geo.maps.overlays.load_context`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from geo import charts
    from geo.maps import static

    out = stage / "figures"
    # projected and simplified once for the four figures drawn over the banners
    banners = static.print_geometry(results.with_geometry("county"))
    written = []
    for key in printed():
        fig = static.choropleth_figure(banners, key, indicator=marked(key, banners), projected=True)
        written += static.save_figure(fig, out / f"county_{key}", formats=("png", "svg"))
    fig = static.battle_zone_figure(
        results.zones["battle"].frame,
        banners=banners,
        projected=True,
        context=context,
        region=results.zones["county"].frame.union_all(),
    )
    written += static.save_figure(fig, out / "battle_zones", formats=("png", "svg"))
    if "sandified" in results.layers:  # the proxy raster, clipped to the region
        fig = static.sandified_degree_figure(
            results.layers["sandified"].path,
            results.zones["province"].frame,
            zones=results.zones["league"].frame,
        )
        written += static.save_figure(fig, out / "sandified_degree_map", formats=("png", "svg"))
    for key in charted():
        fig = charts.indicator_bars(results.wide["league"], key)
        written += static.save_figure(fig, out / f"league_{key}_bars", formats=("png", "svg"))
    for level in ("league", "battle"):
        fig = charts.sandified_stack(results.wide[level])
        written += static.save_figure(
            fig, out / f"{level}_sandified_degrees", formats=("png", "svg")
        )
    return written
