"""Print figures of ``barrier report``: legends beside the map, colours that say good/bad,
no empty classes, rasters clipped to the region, battle zones with the Yellow River and towns,
editable SVG text and the standard-map note (issue 14, cartography)."""

from __future__ import annotations

import itertools
import re

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from geo import boundaries, cli
from geo.crs import EQUAL_AREA
from geo.indicators import INDICATORS
from geo.maps import classes as map_classes_module
from geo.maps import static

NOTE = "正式出版需使用标准地图并送审"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Run ``barrier report`` once through the CLI, keeping every figure it saves."""
    figures = {}
    real = static.save_figure

    def keep(fig, path, **kw):
        figures[str(path).rsplit("/", 1)[-1]] = fig
        return real(fig, path, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(static, "save_figure", keep)
    cache = tmp_path_factory.mktemp("cache")
    mp.setenv("GEO_BARRIER_CACHE", str(cache))
    out = tmp_path_factory.mktemp("run") / "report"
    try:
        code = cli.main(["report", "--out", str(out)])
    finally:
        mp.undo()
    assert code == 0
    figures["cache"] = cache
    return out, figures


def _map_axes(fig):
    return fig.axes[0]


def test_legends_lie_inside_the_figure_and_off_the_map(report):
    _, figures = report
    maps = [
        n
        for n in figures
        if n != "cache" and n.startswith(("county_", "battle_zones", "sandified_degree"))
    ]
    assert len(maps) == 5
    for name in maps:
        fig = figures[name]
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        page = fig.bbox
        mapbox = _map_axes(fig).get_window_extent(renderer)
        assert fig.legends, name
        for legend in fig.legends:
            box = legend.get_window_extent(renderer)
            assert page.x0 <= box.x0 and box.x1 <= page.x1, name
            assert page.y0 <= box.y0 and box.y1 <= page.y1, name
            assert not box.overlaps(mapbox), name
        # the footer (sources, standard-map note) stays on the page and under the map
        footer = [t for t in fig.texts if NOTE in t.get_text()]
        assert len(footer) == 1, name
        fbox = footer[0].get_window_extent(renderer)
        assert page.x0 <= fbox.x0 and fbox.x1 <= page.x1 and page.y0 <= fbox.y0, name
        assert fbox.y1 <= mapbox.y0 + 1, name


def _rgb(colour):
    return np.array(mpl.colors.to_rgb(colour))


def _legend_colours(fig):
    return [
        mpl.colors.to_hex(h.get_facecolor())
        for h in fig.legends[0].legend_handles
        if "no data" not in h.get_label()
    ]


def test_sandified_share_is_brown_where_worst(report):
    _, figures = report
    colours = _legend_colours(figures["county_sandified_pct"])
    light, dark = _rgb(colours[0]), _rgb(colours[-1])
    assert dark.sum() < light.sum()  # more sandified = darker
    assert dark[0] > dark[1] > dark[2]  # warm (brown/red), not green
    for c in colours:
        r, g, b = _rgb(c)
        assert r >= g >= b, c  # a yellow-orange-brown ramp throughout


@pytest.mark.parametrize(
    ("key", "good"),
    [
        ("fvc_mean_pct", "higher"),
        ("forest_area", "higher"),
        ("sandified_pct", "lower"),
        ("sandified_extreme_area", "lower"),
        ("grassland_fvc_pct", "higher"),
        ("area", None),
    ],
)
def test_ramp_direction_per_indicator(key, good):
    ind = INDICATORS[key]
    assert static.good_end(ind) == good
    colours = [_rgb(c) for c in static.ramp(ind, 5)]
    assert all(a.sum() > b.sum() for a, b in itertools.pairwise(colours))  # light to dark
    r, g, b = colours[-1]
    if good == "higher":
        assert g > r and g > b  # the best values dark green
    elif good == "lower":
        assert r > g > b  # the worst values dark brown
    else:
        assert b > r and b > g  # neither: blue


def test_no_empty_or_degenerate_classes(report):
    """Forest is 0 % in most banners: no ``0.00 – 0.00 %`` class, every class holds a banner."""
    out, figures = report
    import pandas as pd

    table = pd.read_csv(out / "tables" / "indicators_county.csv", dtype={"adcode": str})
    for key in ("forest_cover_pct", "grassland_fvc_pct", "sandified_pct"):
        labels = [t.get_text() for t in figures[f"county_{key}"].legends[0].get_texts()]
        assert not any(re.match(r"^(\S+) – \1 %", t) for t in labels), labels
        values = table[key].to_numpy()
        classes = map_classes_module.map_classes(values, INDICATORS[key], "quantiles", 5)
        counts = np.bincount(classes.index(values), minlength=len(classes.colours))
        assert (counts > 0).all(), (key, counts)
        assert len(labels) == len(classes.colours)


def test_drop_empty_keeps_the_target_edge():
    ind = INDICATORS["forest_cover_pct"]
    values = np.array([0.0] * 80 + [5.0, 10.0, 30.0, 50.0, 70.0])
    classes = map_classes_module.map_classes(values, ind, "quantiles", 5)
    assert ind.target in classes.edges
    # every value keeps its verdict: below the target red classes, above green
    meets = np.array(classes.meets)[classes.index(values)]
    assert (meets == (values >= ind.target)).all()
    assert np.bincount(classes.index(values)).min() > 0


def test_degree_palette_is_ordinal():
    colours = [_rgb(static.DEGREE_COLOURS[c]) for c in range(5)]
    assert all(
        a.sum() > b.sum() for a, b in itertools.pairwise(colours)
    )  # none light … extreme dark
    for r, g, b in colours:
        assert r >= g >= b  # one warm hue family: no blue, no green


def test_degree_raster_is_clipped_and_above_the_fill(tmp_path):
    """Every cell 'extreme' (4), inside and outside a small region: only cells inside show."""
    path = tmp_path / "degrees.tif"
    data = np.full((200, 300), 4, dtype="uint8")
    with rasterio.open(path, "w", driver="GTiff", width=300, height=200, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_origin(105, 44, 0.05, 0.05),
                       nodata=255) as dst:  # fmt: skip
        dst.write(data, 1)
    region = gpd.GeoDataFrame(geometry=[shapely.box(108, 38, 114, 42)], crs=4326)
    fig = static.sandified_degree_figure(path, region)
    ax = _map_axes(fig)
    image = ax.get_images()[0]
    fills = [c for c in ax.collections if c.get_zorder() < image.get_zorder()]
    assert fills  # the region's fill is drawn under the raster
    rgba = image.get_array()
    x0, x1, y0, y1 = image.get_extent()
    ny, nx = rgba.shape[:2]
    ea = gpd.GeoSeries([shapely.box(108, 38, 114, 42)], crs=4326).to_crs(EQUAL_AREA)[0]
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y1 - (np.arange(ny) + 0.5) * (y1 - y0) / ny
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(ea, gx, gy)
    alpha = np.asarray(rgba)[..., 3]
    assert (alpha[~inside] == 0).all()  # nothing shown outside the region
    assert (alpha[inside] > 0).mean() > 0.99
    shown = np.asarray(rgba)[inside][:, :3]
    assert np.allclose(shown, _rgb(static.DEGREE_COLOURS[4]), atol=1e-3)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("极重度" in t and "extreme" in t for t in labels)
    assert not any(t.split()[0] == "轻度" for t in labels)  # classes absent from the map left out


def test_report_degree_map_hides_land_outside_the_province(report):
    """The shipped proxy marks the Mongolian Gobi as sandified: the map leaves it blank."""
    out, figures = report
    fig = figures["sandified_degree_map"]
    image = _map_axes(fig).get_images()[0]
    rgba = np.asarray(image.get_array())
    x0, x1, y0, y1 = image.get_extent()
    ny, nx = rgba.shape[:2]
    province = boundaries.load("province").to_crs(EQUAL_AREA).geometry[0]
    xs = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    ys = y1 - (np.arange(ny) + 0.5) * (y1 - y0) / ny
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(province, gx, gy)
    assert (rgba[..., 3][~inside] == 0).all()
    # a cell in the Gobi of Mongolia (105° E, 43.5° N) is sandified in the layer but not shown
    (layer,) = [p for p in figures["cache"].rglob("sandified*.tif")][:1]
    with rasterio.open(layer) as src:
        (value,) = next(src.sample([(105.0, 43.5)]))
    assert value in (1, 2, 3, 4)
    assert (out / "figures" / "sandified_degree_map.png").is_file()


def test_battle_zones_coloured_labelled_with_river_and_towns(report):
    _, figures = report
    fig = figures["battle_zones"]
    ax = _map_axes(fig)
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts()).replace("\n", " ")
    for slug in ("jizhiwan", "horqin_hunshandake", "hexi_taklimakan"):
        from geo.zones import BATTLES

        assert BATTLES[slug].name_zh in legend and BATTLES[slug].name_en in legend
    fills = [mpl.colors.to_hex(h.get_facecolor()) for h in fig.legends[0].legend_handles[:3]]
    assert len(set(fills)) == 3 and set(fills) == set(static.BATTLE_COLOURS.values())
    texts = [t.get_text().replace("\n", "") for t in ax.texts]
    assert sum(t in {b.name_zh for b in BATTLES.values()} for t in texts) == 3
    assert "黄河 Yellow River" in legend and any("黄河" in t for t in texts)
    for town in ("呼和浩特", "包头", "赤峰", "通辽", "锡林浩特"):
        assert town in texts
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text().strip()]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_svg_text_is_editable_and_every_map_carries_the_note(report):
    out, _ = report
    svg = (out / "figures" / "county_forest_cover_pct.svg").read_text(encoding="utf-8")
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    assert any("森林覆盖率" in t for t in texts)
    assert any("额尔古纳市" in t for t in texts)  # a banner label, as text
    battle = (out / "figures" / "battle_zones.svg").read_text(encoding="utf-8")
    shown = re.findall(r"<text[^>]*>(.*?)</text>", battle, flags=re.S)
    for word in ("黄河 Yellow River", "呼和浩特", "包头", "审图号"):  # labels and towns: text
        assert any(word in t for t in shown), word
    assert any(t.startswith("科尔沁") for t in shown)  # the zone label, not only the legend
    for name in ("county_sandified_pct", "sandified_degree_map"):
        assert "审图号" in (out / "figures" / f"{name}.svg").read_text(encoding="utf-8")


def test_pdf_embeds_truetype_text(tmp_path):
    banners = boundaries.load("county")
    banners["v"] = np.linspace(0, 50, len(banners))
    fig = static.choropleth_figure(banners, "v", indicator=INDICATORS["sandified_pct"])
    (pdf,) = static.save_figure(fig, tmp_path / "x", formats=("pdf",))
    raw = pdf.read_bytes()
    assert b"/Type3" not in raw  # Type 3 fonts are outlines that editors cannot retype


def test_missing_context_file_warns_and_still_draws(monkeypatch):
    from geo.errors import GeoWarning
    from geo.zones import battle_zones

    monkeypatch.setattr(static, "_CONTEXT_RIVERS", ("context", "nope.gpkg"))
    with pytest.warns(GeoWarning, match="nope.gpkg is missing"):
        fig = static.battle_zone_figure(battle_zones(), labels=False)
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "科尔沁" in legend and "黄河 Yellow River" not in legend
    assert not any("Natural Earth" in t.get_text() for t in fig.texts)
