"""Presentation receives its data and words one verdict rule (issue 15).

- The report's maps and figures are drawn from the results and overlays they are given: with
  every loader made to fail, ``write_maps``/``write_figures`` still succeed, and what they write
  is what the public convenience functions (which read the shipped data themselves) draw.
- The region-wide verdict of ``report.html`` and of ``report.docx``/``.pdf`` is the one rule of
  :func:`geo.indicators.verdict`, at the target, just either side of it, for None and NaN.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from geo import layers as catalogue
from geo import zones
from geo.indicators import DEGREES, INDICATORS
from geo.indicators import verdict as rule
from geo.maps import interactive, static
from geo.maps.overlays import load_context
from geo.report import Results

_LEVELS = ("province", "league", "county", "battle", "battle_part")


def _results() -> Results:
    """The shipped zone sets with made-up values (every mapped and charted column)."""
    from geo.reporthtml import MAP_INDICATORS

    sets = {level: zones.ZoneSet.load(level) for level in _LEVELS}
    wide = {}
    for level, zone_set in sets.items():
        frame = zone_set.frame
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).reset_index(drop=True)
        ramp = np.linspace(5.0, 95.0, len(table)) if len(table) > 1 else np.array([50.0])
        for i, key in enumerate((*MAP_INDICATORS, "treated_sandified_pct")):
            table[key] = np.roll(ramp, i)
        table["sandified_area_km2"] = ramp * 10
        for j, (degree, _) in enumerate(DEGREES):
            table[f"sandified_{degree}_area_km2"] = ramp * (j + 1)
        wide[level] = table
    # any catalogue rasters stand in for the derived ones: only their drawing is tested
    layers = {"sandified": catalogue.get("landcover"), "fvc": catalogue.get("ndvi_max")}
    return Results(wide=wide, long={}, zones=sets, layers=layers)


def _page(text: str) -> str:
    """A map page without what changes from one rendering to the next: folium's element ids
    and the embedded font subset (its header carries a creation time)."""
    text = re.sub(r"_[0-9a-f]{32}", "_ID", text)
    return re.sub(r"data:font/[^)\"']*", "FONT", text)


def _count_banner_simplifications(monkeypatch, module: str) -> list:
    """Record each simplification of the 103 banners by ``module``'s ``simplify_coverage``."""
    from geo.maps import geometry

    calls, simplify = [], geometry.simplify_coverage

    def counted(geoms, **kwargs):
        if len(geoms) == 103:
            calls.append(kwargs.get("tolerance"))
        return simplify(geoms, **kwargs)

    monkeypatch.setattr(f"{module}.simplify_coverage", counted)
    return calls


def _no_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("presentation must not load data")

    monkeypatch.setattr("geo.boundaries.load", refuse)
    monkeypatch.setattr("geo.zones.load", refuse)
    monkeypatch.setattr("geo.zones.context_overlays", refuse)
    monkeypatch.setattr("geo.maps.overlays.load_context", refuse)
    monkeypatch.setattr("geo.maps.interactive.load_context", refuse)
    monkeypatch.setattr("geo.maps.static.load_context", refuse)


@pytest.mark.slow
def test_report_maps_are_drawn_from_the_data_given(monkeypatch, tmp_path):
    from geo import reporthtml

    results = _results()
    deserts, context = zones.context_overlays(), load_context()
    with monkeypatch.context() as patch:
        _no_loading(patch)
        simplified = _count_banner_simplifications(patch, "geo.maps.geometry")
        written = reporthtml.write_maps(tmp_path, results, deserts=deserts, context=context)
    assert len(simplified) == 1  # once for the five banner maps and the battle map's outlines
    assert [p.name for p in written] == [
        *(f"county_{k}.html" for k in reporthtml.MAP_INDICATORS),
        "battle_zones.html",
    ]
    # the same pages as the public functions draw, reading the shipped data themselves
    key = "sandified_pct"
    banners, battle = results.with_geometry("county"), results.with_geometry("battle")
    m = interactive.choropleth(
        banners, key, indicator=INDICATORS[key], overlays=["leagues", battle]
    )
    own = interactive.save(m, tmp_path / "own.html").read_text(encoding="utf-8")
    assert _page(own) == _page((tmp_path / "maps" / f"county_{key}.html").read_text("utf-8"))
    layers = results.layers
    m = interactive.battle_zone_map(
        battle,
        parts=results.with_geometry("battle_part"),
        indicator=INDICATORS[key],
        overlays=["leagues", "banners", deserts, layers["sandified"], layers["fvc"], "landcover"],
    )
    own = interactive.save(m, tmp_path / "own_battle.html").read_text(encoding="utf-8")
    page = (tmp_path / "maps" / "battle_zones.html").read_text(encoding="utf-8")
    assert _page(own) == _page(page)
    assert "黄河" in page and "desert outlines" in page  # the rivers and deserts given


@pytest.mark.slow
def test_report_figures_are_drawn_from_the_data_given(monkeypatch, tmp_path):
    from geo import reporthtml

    results = _results()
    context = load_context()
    with monkeypatch.context() as patch:
        _no_loading(patch)
        simplified = _count_banner_simplifications(patch, "geo.maps.layout")
        written = reporthtml.write_figures(tmp_path, results, context=context)
    assert len(simplified) == 1  # once for the three banner maps and the battle map's ground
    names = {p.name for p in written}
    assert {"battle_zones.png", "county_sandified_pct.png", "sandified_degree_map.png"} <= names
    # the battle figure as the public function draws it, reading banners and rivers itself
    fig = static.battle_zone_figure(results.zones["battle"].frame)
    (own,) = static.save_figure(fig, tmp_path / "own", formats=("png",))
    assert own.read_bytes() == (tmp_path / "figures" / "battle_zones.png").read_bytes()
    key = "grassland_fvc_pct"
    fig = static.choropleth_figure(results.with_geometry("county"), key, indicator=INDICATORS[key])
    (own,) = static.save_figure(fig, tmp_path / "own_county", formats=("png",))
    assert own.read_bytes() == (tmp_path / "figures" / f"county_{key}.png").read_bytes()


def test_the_drawing_reads_no_rivers_when_given_none(monkeypatch):
    """Without context the battle figure draws no rivers and reads nothing."""
    results_zones = zones.load("battle")
    banners = zones.load("county")
    _no_loading(monkeypatch)
    fig = static.battle_zone_figure(results_zones, banners=banners, context=None, labels=False)
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "科尔沁" in legend and "黄河 Yellow River" not in legend


_COVER = INDICATORS["forest_cover_pct"]  # target ≥ 21.98 %
_SAND = INDICATORS["treated_sandified_pct"]


def _values(ind):
    t = float(ind.target)
    return [t, math.nextafter(t, -math.inf), math.nextafter(t, math.inf), t - 5, t + 5, None,
            float("nan")]  # fmt: skip


def _spreads(ind):
    t = float(ind.target)
    return [None, (t - 1, t + 1), (t + 0.5, t + 3), (t - 3, t - 0.5), (t, t)]


@pytest.mark.parametrize("ind", [_COVER, _SAND], ids=lambda i: i.id)
def test_report_verdicts_are_the_indicator_rule(ind):
    from geo.reportdoc import VERDICT_WORDS as DOC_WORDS
    from geo.reportdoc import _verdict as doc_verdict
    from geo.reporthtml import VERDICT_WORDS as HTML_WORDS
    from geo.reporthtml import verdict as html_verdict

    seen = set()
    for value in _values(ind):
        for spread in _spreads(ind):
            if value is None or math.isnan(value):
                code = "no_data"
            else:
                low, high = spread if spread is not None else (value, value)
                code = rule(value, ind, low, high)
            seen.add(code)
            assert html_verdict(value, ind, spread)[0] == HTML_WORDS[code], (value, spread)
            zh, en = DOC_WORDS[code]
            assert doc_verdict(value, ind, spread, "en")[0] == en, (value, spread)
            assert doc_verdict(value, ind, spread, "zh")[0] == zh, (value, spread)
    assert seen == {"met", "not_met", "uncertain", "no_data"}


def test_verdict_at_the_target_by_hand():
    """At the target a ≥ target is met; just below it is not; a range across it is uncertain."""
    from geo.reporthtml import verdict

    t = float(_COVER.target)
    assert verdict(t, _COVER, None)[0] == "met 达到"
    assert verdict(math.nextafter(t, 0), _COVER, None)[0] == "not met 未达到"
    assert verdict(t + 1, _COVER, (t - 1, t + 2))[0] == "uncertain 不确定"
    # a value outside its own method range still counts: the rule takes the value into the range
    assert verdict(t + 1, _COVER, (t - 3, t - 1))[0] == "uncertain 不确定"
    assert verdict(float("nan"), _COVER, None)[0].startswith("not computed")
