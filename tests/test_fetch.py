"""``barrier fetch`` end to end against servers on 127.0.0.1 (issue 17): a tiny STAC API whose
items are COGs made here, and plain HTTP files with a checksum list (the CLCD route).

Composites are checked against numpy's max/mean of the items, written files against their
provenance checksums; failures are injected on the server (503 twice, always 500, a wrong
checksum, a truncated body). Live endpoints only in tests marked ``network``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.shutil
import shapely
from rasterio.transform import from_origin

from geo import cli
from geo.fetch import http as fetch_http

NODATA = -3000
RELIABILITY = "250m_16_days_pixel_reliability"  # 0 good, 1 marginal, 2 snow/ice, 3 cloudy
WEST, NORTH, CELL = 111.0, 41.2, 0.01  # 20 × 20 cells: 111.0–111.2 °E, 41.0–41.2 °N
YEARS = (2001, 2002, 2003)
#: two items in the growing season and one outside it (must not count) per year
DATES = ("{y}-05-25", "{y}-08-13", "{y}-03-06")


def run(capsys, *args):
    """Run ``barrier``; the test zones are boxes, declared EPSG:4326 (no GCJ-02 guess)."""
    if "--zones" in args:
        args = (*args, "--source-crs", "EPSG:4326")
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch):
    monkeypatch.setattr(fetch_http, "BACKOFF", 0.0)


def _cog(path: Path, data: np.ndarray, *, crs="EPSG:4326", transform=None, nodata=NODATA):
    plain = path.with_suffix(".plain.tif")
    with rasterio.open(
        plain,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=data.dtype,
        crs=crs,
        transform=transform or from_origin(WEST, NORTH, CELL, CELL),
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)
    rasterio.shutil.copy(plain, path, driver="COG")
    plain.unlink()
    return path


class Server:
    """A threaded HTTP server on 127.0.0.1 serving a STAC API and files, with injected faults."""

    def __init__(self, root: Path):
        self.root = root
        self.items: list[dict] = []
        self.requests: Counter = Counter()
        self.fail: dict[str, list[int]] = {}  # path → statuses to answer first
        self.always: dict[str, int] = {}  # path prefix → status every time
        self.truncate: dict[str, int] = {}  # path → times to send half the body
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.handle(self, None)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.handle(self, json.loads(body or b"{}"))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- answers

    def handle(self, h, body):
        path = urlsplit(h.path).path
        self.requests[path] += 1
        for prefix, status in self.always.items():
            if path.startswith(prefix):
                return self.send(h, status, b"broken")
        if self.fail.get(path):
            return self.send(h, self.fail[path].pop(0), b"busy")
        if path in ("/stac", "/stac/"):
            return self.send_json(h, self.landing())
        if path == "/stac/search":
            query = (
                body
                if body is not None
                else {k: v[0] for k, v in parse_qs(urlsplit(h.path).query).items()}
            )
            return self.send_json(h, self.search(query))
        if path == "/stac/conformance":
            return self.send_json(h, {"conformsTo": self.landing()["conformsTo"]})
        file = self.root / path.lstrip("/")
        if file.is_file():
            data = file.read_bytes()
            if self.truncate.get(path, 0) > 0:
                self.truncate[path] -= 1
                h.send_response(200)
                h.send_header("Content-Length", str(len(data)))
                h.end_headers()
                h.wfile.write(data[: len(data) // 2])
                h.wfile.flush()
                h.close_connection = True
                return None
            return self.send(h, 200, data)
        return self.send(h, 404, b"not found")

    def send(self, h, status, data, kind="application/octet-stream"):
        h.send_response(status)
        h.send_header("Content-Type", kind)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def send_json(self, h, obj):
        self.send(h, 200, json.dumps(obj).encode(), "application/json")

    def landing(self):
        base = f"{self.base}/stac"
        return {
            "type": "Catalog",
            "id": "test",
            "stac_version": "1.0.0",
            "description": "test catalog",
            "conformsTo": [
                "https://api.stacspec.org/v1.0.0/core",
                "https://api.stacspec.org/v1.0.0/item-search",
            ],
            "links": [
                {"rel": "self", "href": base, "type": "application/json"},
                {"rel": "root", "href": base, "type": "application/json"},
                {"rel": "search", "href": f"{base}/search", "method": "POST",
                 "type": "application/geo+json"},
                {"rel": "search", "href": f"{base}/search", "method": "GET",
                 "type": "application/geo+json"},
            ],
        }  # fmt: skip

    def search(self, query):
        start, end = str(query.get("datetime", "..")).split("/")
        found = [
            i
            for i in self.items
            if start[:10] <= i["properties"]["datetime"][:10] <= end[:10]
            and i["collection"] in query.get("collections", [i["collection"]])
        ]
        return {"type": "FeatureCollection", "features": found, "links": []}


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "www")
    (tmp_path / "www").mkdir()
    yield s
    s.close()


def _item(server, name, date, collection="modis-13Q1-061", asset="250m_16_days_NDVI"):
    w, n = WEST, NORTH
    e, s = w + 20 * CELL, n - 20 * CELL
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": name,
        "collection": collection,
        "geometry": shapely.geometry.mapping(shapely.box(w, s, e, n)),
        "bbox": [w, s, e, n],
        "properties": {"datetime": f"{date}T00:00:00Z"},
        "links": [],
        "assets": {
            asset: {"href": f"{server.base}/files/{name}.tif", "type": "image/tiff"},
            RELIABILITY: {"href": f"{server.base}/files/{name}.q.tif", "type": "image/tiff"},
        },
    }


@pytest.fixture
def ndvi_catalog(server):
    """3 years × (2 growing-season items + 1 March item), 20 × 20 int16 NDVI, some nodata."""
    rng = np.random.default_rng(17)
    (server.root / "files").mkdir()
    arrays = {}
    for y in YEARS:
        for k, date in enumerate(DATES):
            data = rng.integers(-2000, 10000, (20, 20)).astype("int16")
            data[rng.random((20, 20)) < 0.1] = NODATA
            quality = rng.choice(np.array([0, 1, 2, 3], "int8"), (20, 20), p=[0.6, 0.2, 0.1, 0.1])
            name = f"MOD13Q1.{y}.{k}"
            _cog(server.root / "files" / f"{name}.tif", data)
            _cog(server.root / "files" / f"{name}.q.tif", quality, nodata=None)
            server.items.append(_item(server, name, date.format(y=y)))
            arrays[y, k] = data
            arrays[y, k, "q"] = quality
    return arrays


def _zones(tmp_path, box=(110.9, 40.9, 111.3, 41.3), name="zones.gpkg"):
    path = tmp_path / name
    gpd.GeoDataFrame({"name": ["z"]}, geometry=[shapely.box(*box)], crs=4326).to_file(path)
    return path


def _expected(arrays, y):
    """Growing-season max and mean by hand (March item excluded, nodata, snow and clouds
    ignored), NDVI units."""
    season = np.stack([arrays[y, 0], arrays[y, 1]]).astype("float64")
    reliability = np.stack([arrays[y, 0, "q"], arrays[y, 1, "q"]])
    season[(season == NODATA) | (reliability >= 2)] = np.nan  # snow/ice and clouds dropped
    with (
        np.errstate(all="ignore"),
        pytest.warns(RuntimeWarning) if np.isnan(season).all(axis=0).any() else _nothing(),
    ):
        return np.nanmax(season, axis=0) * 1e-4, np.nanmean(season, axis=0) * 1e-4


#: the default test zones' box ± 0.05° holds the items with 15 cells of no data on each side
PAD = 15


def _padded(a):
    return np.pad(a, PAD, constant_values=np.nan)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _read(path):
    with rasterio.open(path) as src:
        return src.read(1, masked=False), src


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _fetch(capsys, server, tmp_path, *extra, source="modis-ndvi", years="2001-2003"):
    return run(
        capsys, "fetch", source, "--zones", _zones(tmp_path), "--years", years,
        "--out", tmp_path / "out", "--catalog", f"{server.base}/stac", "--quiet", *extra,
    )  # fmt: skip


# ----------------------------------------------------------------------------- STAC route


def test_ndvi_composites_are_max_and_mean_of_the_season_items(
    capsys, tmp_path, server, ndvi_catalog
):
    code, _, err = _fetch(capsys, server, tmp_path)
    assert code == 0, err
    for y in YEARS:
        top, mean = _expected(ndvi_catalog, y)
        for kind, want in (("max", _padded(top)), ("mean", _padded(mean))):
            path = tmp_path / "out" / f"modis-ndvi-{kind}" / f"modis-ndvi-{kind}_{y}.tif"
            got, src = _read(path)
            # the zones' box (110.9–111.3 °E, 40.9–41.3 °N) ± 0.05° on the items' grid
            origin = from_origin(WEST - PAD * CELL, NORTH + PAD * CELL, CELL, CELL)
            assert src.crs.to_epsg() == 4326 and src.transform.almost_equals(origin)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True)
    # the March items were never downloaded
    assert all(server.requests[f"/files/MOD13Q1.{y}.2.tif"] == 0 for y in YEARS)


def test_fill_values_count_as_no_data_where_the_files_declare_none(
    capsys, tmp_path, server, ndvi_catalog
):
    for k in (0, 1):  # the same values, written without a nodata tag
        _cog(server.root / "files" / f"MOD13Q1.2001.{k}.tif", ndvi_catalog[2001, k], nodata=None)
    code, _, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 0, err
    _, mean = _expected(ndvi_catalog, 2001)
    got, _ = _read(tmp_path / "out" / "modis-ndvi-mean" / "modis-ndvi-mean_2001.tif")
    np.testing.assert_allclose(got, _padded(mean), rtol=1e-6, equal_nan=True)
    assert np.nanmin(got) >= -0.2  # no -3000 fill averaged in


def test_a_year_without_items_is_left_out_with_a_warning(capsys, tmp_path, server, ndvi_catalog):
    server.items = [i for i in server.items if not i["id"].startswith("MOD13Q1.2002")]
    code, _, err = _fetch(capsys, server, tmp_path)
    assert code == 0
    (line,) = [x for x in err.splitlines() if "warning" in x]
    assert "no data for 2002" in line and "left out" in line
    names = sorted(p.name for p in (tmp_path / "out" / "modis-ndvi-max").glob("*.tif"))
    assert names == ["modis-ndvi-max_2001.tif", "modis-ndvi-max_2003.tif"]


def test_an_item_without_its_reliability_asset_exits_2(capsys, tmp_path, server, ndvi_catalog):
    del server.items[1]["assets"][RELIABILITY]  # MOD13Q1.2001.1
    code, _, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 2 and err.count("\n") == 1
    assert f"item MOD13Q1.2001.1 of modis-13Q1-061 has no {RELIABILITY} asset" in err
    assert not (tmp_path / "out").exists()


def test_outputs_are_cogs_with_provenance_checksums_and_make_a_stack(
    capsys, tmp_path, server, ndvi_catalog
):
    from geo.stack import Stack

    assert _fetch(capsys, server, tmp_path)[0] == 0
    folder = tmp_path / "out" / "modis-ndvi-max"
    record = json.loads((folder / "provenance.json").read_text())
    assert record["catalog"] == f"{server.base}/stac" and record["licence"].startswith("public")
    assert "max" in record["composite"] and "5–9" in record["composite"]
    assert f"{RELIABILITY} is not in (0, 1)" in record["composite"]
    for y in YEARS:
        entry = record["years"][str(y)]
        path = folder / entry["file"]
        assert entry["sha256"] == _sha(path)
        with rasterio.open(path) as src:
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        items = {i["item"] for i in entry["inputs"]}
        assert items == {f"MOD13Q1.{y}.0", f"MOD13Q1.{y}.1"}
        for i in entry["inputs"]:
            assert i["sha256"] == _sha(server.root / "files" / f"{i['item']}.tif")
            assert i["quality_sha256"] == _sha(server.root / "files" / f"{i['item']}.q.tif")
            assert "?" not in i["url"] and i["datetime"].startswith(str(y))
    stack = Stack.open(folder)
    assert stack.years == YEARS
    # nothing but the COGs and the sidecar, no leftovers
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*(f"modis-ndvi-max_{y}.tif" for y in YEARS), "provenance.json"]
    )
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


def test_cropped_to_the_zones_box_plus_margin(capsys, tmp_path, server, ndvi_catalog):
    zones = _zones(tmp_path, box=(111.1, 41.1, 111.12, 41.12), name="small.gpkg")
    args = ("fetch", "modis-ndvi", "--zones", zones, "--years", "2002", "--out", tmp_path / "o")
    code, _, err = run(capsys, *args, "--catalog", f"{server.base}/stac", "--quiet")
    assert code == 0, err
    got, src = _read(tmp_path / "o" / "modis-ndvi-max" / "modis-ndvi-max_2002.tif")
    # box ± 0.05° = 111.05–111.17 °E, 41.05–41.17 °N → columns 5–17, rows 3–15 of the items
    assert src.bounds.left == pytest.approx(111.05) and src.bounds.top == pytest.approx(41.17)
    top, _ = _expected(ndvi_catalog, 2002)
    np.testing.assert_allclose(got, top[3:15, 5:17], rtol=1e-6, equal_nan=True)


def test_second_run_skips_every_year(capsys, tmp_path, server, ndvi_catalog):
    assert _fetch(capsys, server, tmp_path)[0] == 0
    before = sum(server.requests.values())
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*.tif")}
    code, _, err = run(
        capsys, "fetch", "modis-ndvi", "--zones", _zones(tmp_path), "--years", "2001-2003",
        "--out", tmp_path / "out", "--catalog", f"{server.base}/stac",
    )  # fmt: skip
    assert code == 0, err
    assert sum(server.requests.values()) == before  # not even a search
    # progress as plain lines (stderr is not a terminal here), then the folders written
    assert err.splitlines() == [
        *(f"barrier fetch: {y}: already fetched, checksum matches" for y in YEARS),
        f"barrier fetch: wrote {tmp_path / 'out' / 'modis-ndvi-max'}",
        f"barrier fetch: wrote {tmp_path / 'out' / 'modis-ndvi-mean'}",
    ]
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*.tif")} == mtimes


def test_a_changed_year_is_fetched_again_and_the_others_are_kept(
    capsys, tmp_path, server, ndvi_catalog
):
    assert _fetch(capsys, server, tmp_path)[0] == 0
    damaged = tmp_path / "out" / "modis-ndvi-mean" / "modis-ndvi-mean_2002.tif"
    damaged.write_bytes(damaged.read_bytes()[:100])
    before = Counter(server.requests)
    code, _, err = _fetch(capsys, server, tmp_path)
    assert code == 0 and "modis-ndvi-mean_2002.tif changed since it was fetched" in err
    fetched = server.requests - before
    fetched.pop("/stac", None)  # the landing page, read or not
    files = ("MOD13Q1.2002.0.tif", "MOD13Q1.2002.1.tif", "MOD13Q1.2002.0.q.tif",
             "MOD13Q1.2002.1.q.tif")  # fmt: skip
    assert fetched == Counter({"/stac/search": 1, **{f"/files/{f}": 1 for f in files}})
    _, mean = _expected(ndvi_catalog, 2002)
    np.testing.assert_allclose(_read(damaged)[0], _padded(mean), rtol=1e-6, equal_nan=True)


def test_retries_a_server_that_fails_twice_with_503(capsys, tmp_path, server, ndvi_catalog):
    server.fail["/stac/search"] = [503, 503]
    server.fail["/files/MOD13Q1.2001.1.tif"] = [503, 503]
    code, _, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 0, err
    assert server.requests["/files/MOD13Q1.2001.1.tif"] == 3
    top, _ = _expected(ndvi_catalog, 2001)
    got, _ = _read(tmp_path / "out" / "modis-ndvi-max" / "modis-ndvi-max_2001.tif")
    np.testing.assert_allclose(got, _padded(top), rtol=1e-6, equal_nan=True)


def test_a_file_server_that_always_fails_exits_2_in_one_line_leaving_nothing(
    capsys, tmp_path, server, ndvi_catalog
):
    server.always["/files/"] = 500
    code, out, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cannot reach" in err and "HTTP 500" in err and "--from" in err
    assert server.requests["/files/MOD13Q1.2001.0.tif"] == fetch_http.ATTEMPTS
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_a_catalog_that_always_answers_503_exits_2_after_the_retries(
    capsys, tmp_path, server, ndvi_catalog
):
    server.always["/stac"] = 503
    code, _, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 2 and err.count("\n") == 1
    assert f"cannot reach {server.base}/stac: HTTP 503; check the network" in err
    assert server.requests["/stac"] == fetch_http.ATTEMPTS
    assert not (tmp_path / "out").exists()


def test_an_unreachable_catalog_exits_2_in_one_line(capsys, tmp_path, server, ndvi_catalog):
    dead = f"{server.base}/stac"
    server.close()
    code, _, err = run(
        capsys, "fetch", "modis-ndvi", "--zones", _zones(tmp_path), "--years", "2001",
        "--out", tmp_path / "out", "--catalog", dead, "--quiet",
    )  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"barrier fetch: error: cannot reach {dead}: ")
    assert "connection refused; check the network or use --from DIR" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/page.html", "is not a STAC API"),
        ("/files/MOD13Q1.2001.0.tif", "is not a STAC API"),
        ("/other.json", "is not a STAC API"),
        ("/missing", "is not a STAC API (it answered HTTP 404)"),
    ],
)
def test_a_catalog_that_is_not_a_stac_api_exits_2_in_one_line(
    capsys, tmp_path, server, ndvi_catalog, path, why
):
    (server.root / "page.html").write_text("<html>hello</html>")
    (server.root / "other.json").write_text('{"type": "Feature", "id": 1}')
    code, _, err = run(
        capsys, "fetch", "modis-ndvi", "--zones", _zones(tmp_path), "--years", "2001",
        "--out", tmp_path / "out", "--catalog", server.base + path, "--quiet",
    )  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert f"--catalog {server.base}{path} {why}" in err
    assert not (tmp_path / "out").exists()


def test_a_truncated_download_is_retried_then_refused_leaving_nothing(
    capsys, tmp_path, server, ndvi_catalog
):
    server.truncate["/files/MOD13Q1.2001.0.tif"] = 99
    code, _, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 2 and err.count("\n") == 1
    assert "cannot download" in err and "MOD13Q1.2001.0.tif: the download stopped short" in err
    assert server.requests["/files/MOD13Q1.2001.0.tif"] == fetch_http.ATTEMPTS
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_a_download_cut_once_is_retried_and_kept_whole(capsys, tmp_path, server, ndvi_catalog):
    server.truncate["/files/MOD13Q1.2001.0.tif"] = 1
    code, _, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 0, err
    assert server.requests["/files/MOD13Q1.2001.0.tif"] == 2
    record = json.loads((tmp_path / "out" / "modis-ndvi-max" / "provenance.json").read_text())
    used = {i["item"]: i["sha256"] for i in record["years"]["2001"]["inputs"]}
    assert used["MOD13Q1.2001.0"] == _sha(server.root / "files" / "MOD13Q1.2001.0.tif")


def test_the_fetched_folder_is_a_stack_for_series(capsys, tmp_path, server, ndvi_catalog):
    assert _fetch(capsys, server, tmp_path)[0] == 0
    stack = tmp_path / "out" / "modis-ndvi-mean"
    code, _, err = run(
        capsys, "series", "--zones", _zones(tmp_path), "--stack", stack,
        "--out", tmp_path / "series", "--stat", "mean", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(tmp_path / "series" / "series_user.csv")
    means = table[table["stat"] == "mean"].set_index("year")["value"]
    # the zone holds every valid cell; cells weighted by their area (∝ cos latitude)
    lat = NORTH - CELL * (np.arange(20) + 0.5)
    weight = np.broadcast_to(np.cos(np.radians(lat))[:, None], (20, 20))
    for y in YEARS:
        _, mean = _expected(ndvi_catalog, y)
        ok = np.isfinite(mean)
        want = (mean[ok] * weight[ok]).sum() / weight[ok].sum()
        assert means[y] == pytest.approx(want, rel=1e-4)


def test_resuming_with_another_box_is_refused(capsys, tmp_path, server, ndvi_catalog):
    assert _fetch(capsys, server, tmp_path, years="2001")[0] == 0
    other = _zones(tmp_path, box=(111.1, 41.1, 111.12, 41.12), name="other.gpkg")
    code, _, err = run(
        capsys, "fetch", "modis-ndvi", "--zones", other, "--years", "2002",
        "--out", tmp_path / "out", "--catalog", f"{server.base}/stac",
    )  # fmt: skip
    assert code == 2 and "another box or catalog" in err and "one stack" in err
    assert not (tmp_path / "out" / "modis-ndvi-max" / "modis-ndvi-max_2002.tif").exists()


def test_a_download_that_is_not_a_raster_exits_2_leaving_nothing(
    capsys, tmp_path, server, ndvi_catalog
):
    (server.root / "files" / "MOD13Q1.2001.1.tif").write_bytes(b"<html>maintenance</html>")
    code, _, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 2 and err.count("\n") == 1
    assert "MOD13Q1.2001.1" in err and "is not a readable raster" in err
    assert [p for p in (tmp_path / "out").rglob("*") if p.is_file()] == []


def test_leftovers_of_a_killed_run_are_removed(capsys, tmp_path, server, ndvi_catalog):
    folder = tmp_path / "out" / "modis-ndvi-max"
    folder.mkdir(parents=True)
    (folder / ".modis-ndvi-max_2001.x1y2.part.tif").write_bytes(b"half")
    dead = tmp_path / "out" / ".download-999999999-abc"  # no such process
    dead.mkdir()
    (dead / "item.tif").write_bytes(b"half")
    assert _fetch(capsys, server, tmp_path, years="2001")[0] == 0
    assert not dead.exists() and not list(folder.glob(".*"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "modis-ndvi-max",
        "modis-ndvi-mean",
    ]


def test_out_that_is_a_file_exits_2(capsys, tmp_path, server, ndvi_catalog):
    (tmp_path / "out").write_text("x")
    code, _, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 2 and "is not a folder" in err and (tmp_path / "out").read_text() == "x"


def test_years_outside_the_source_and_sources_without_catalog_are_refused(capsys, tmp_path):
    zones = _zones(tmp_path)
    code, _, err = run(capsys, "fetch", "worldcover", "--zones", zones, "--years", "2019-2021")
    assert code == 2 and "worldcover covers 2020–2021" in err
    code, _, err = run(capsys, "fetch", "modis-treecover", "--zones", zones, "--years", "2010")
    assert code == 2 and "--catalog" in err and "--from" in err
    assert not Path("fetched").exists()


def test_a_file_not_written_by_fetch_is_not_overwritten(capsys, tmp_path, server, ndvi_catalog):
    folder = tmp_path / "out" / "modis-ndvi-max"
    folder.mkdir(parents=True)
    (folder / "modis-ndvi-max_2001.tif").write_bytes(b"mine")
    code, _, err = _fetch(capsys, server, tmp_path, years="2001")
    assert code == 2 and "will not overwrite" in err and "modis-ndvi-max_2001.tif" in err
    assert (folder / "modis-ndvi-max_2001.tif").read_bytes() == b"mine"


# ----------------------------------------------------------------------------- HTTP route


@pytest.fixture
def clcd_files(server):
    """CLCD-style yearly class rasters in UTM 49N with a SHA256SUMS list."""
    rng = np.random.default_rng(3)
    folder = server.root / "clcd"
    folder.mkdir()
    arrays, lines = {}, []
    transform = from_origin(CLCD_BOUNDS[0], CLCD_BOUNDS[3], 30, 30)  # ≈ 111.0 °E, 41.2 °N
    for y in (2010, 2011):
        data = rng.integers(1, 10, (30, 40)).astype("uint8")
        path = _cog(folder / f"CLCD_v01_{y}_albert.tif", data, crs="EPSG:32649",
                    transform=transform, nodata=0)  # fmt: skip
        arrays[y] = data
        lines.append(f"{_sha(path)}  {path.name}")
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    record = {  # a Zenodo record's API answer: MD5 checksums, file links
        "id": 1,
        "files": [
            {
                "key": p.name,
                "checksum": "md5:" + hashlib.md5(p.read_bytes()).hexdigest(),
                "links": {"self": f"{server.base}/clcd/{p.name}"},
            }
            for p in sorted(folder.glob("*.tif"))
        ],
    }
    (folder / "record.json").write_text(json.dumps(record))
    return arrays


CLCD_BOUNDS = (500000, 4559100, 501200, 4560000)  # 40 × 30 cells of 30 m, UTM 49N


def _fetch_clcd(capsys, server, tmp_path, years="2010-2011", listing="SHA256SUMS"):
    from rasterio.warp import transform_bounds

    box = transform_bounds("EPSG:32649", "EPSG:4326", *CLCD_BOUNDS)
    return run(
        capsys, "fetch", "clcd", "--zones", _zones(tmp_path, box=box),
        "--years", years, "--out", tmp_path / "out",
        "--catalog", f"{server.base}/clcd/{listing}", "--quiet",
    )  # fmt: skip


def test_clcd_route_checks_checksums_and_keeps_the_classes(capsys, tmp_path, server, clcd_files):
    code, _, err = _fetch_clcd(capsys, server, tmp_path)
    assert code == 0, err
    folder = tmp_path / "out" / "clcd"
    record = json.loads((folder / "provenance.json").read_text())
    for y, data in clcd_files.items():
        got, src = _read(folder / f"clcd_{y}.tif")
        assert src.crs.to_epsg() == 32649 and src.dtypes[0] == "uint8" and src.nodata == 0
        # the file's cells copied where they are; no data (0) in the rest of the box ± 0.05°
        window = rasterio.windows.from_bounds(*CLCD_BOUNDS, src.transform).round_offsets()
        inside = got[window.toslices()]
        np.testing.assert_array_equal(inside, data)
        assert got.sum() == data.sum() and got.shape[0] > 300 and got.shape[1] > 300
        (used,) = record["years"][str(y)]["inputs"]
        assert used["published"] == f"sha256:{_sha(server.root / 'clcd' / used['file'])}"
        assert record["years"][str(y)]["sha256"] == _sha(folder / f"clcd_{y}.tif")
    assert "CC-BY-4.0" in record["licence"]
    assert server.requests["/clcd/SHA256SUMS"] == 1  # read once for both years


def test_clcd_from_a_zenodo_record_checks_md5(capsys, tmp_path, server, clcd_files):
    code, _, err = _fetch_clcd(capsys, server, tmp_path, listing="record.json")
    assert code == 0, err
    record = json.loads((tmp_path / "out" / "clcd" / "provenance.json").read_text())
    (used,) = record["years"]["2011"]["inputs"]
    assert used["published"].startswith("md5:") and used["url"].endswith("CLCD_v01_2011_albert.tif")
    got = _read(tmp_path / "out" / "clcd" / "clcd_2011.tif")[0]
    counts = np.bincount(got.ravel(), minlength=10)[1:]
    assert counts.tolist() == np.bincount(clcd_files[2011].ravel(), minlength=10)[1:].tolist()
    bad = server.root / "clcd" / "CLCD_v01_2010_albert.tif"
    bad.write_bytes(bad.read_bytes()[:-1] + b"\x00")
    shutil.rmtree(tmp_path / "out")
    code, _, err = _fetch_clcd(capsys, server, tmp_path, listing="record.json")
    assert code == 2 and "CLCD_v01_2010_albert.tif" in err and "md5" in err


def test_clcd_year_missing_from_the_list_exits_2(capsys, tmp_path, server, clcd_files):
    code, _, err = _fetch_clcd(capsys, server, tmp_path, years="2012")
    assert code == 2 and err.count("\n") == 1
    assert "lists no file of 2012" in err and "CLCD_v01_2010_albert.tif" in err


def test_clcd_checksum_mismatch_exits_2_naming_the_file(capsys, tmp_path, server, clcd_files):
    bad = server.root / "clcd" / "CLCD_v01_2011_albert.tif"
    bad.write_bytes(bad.read_bytes() + b"x")
    code, _, err = _fetch_clcd(capsys, server, tmp_path)
    assert code == 2 and err.count("\n") == 1
    assert "CLCD_v01_2011_albert.tif" in err and "does not match its published checksum" in err
    # 2010 was complete and stays (resumable); nothing of 2011 was kept
    folder = tmp_path / "out" / "clcd"
    assert sorted(p.name for p in folder.iterdir()) == ["clcd_2010.tif", "provenance.json"]
    assert [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


# ----------------------------------------------------------------------------- --from


def test_from_a_prepared_folder_copies_checked_files(capsys, tmp_path, server, ndvi_catalog):
    assert _fetch(capsys, server, tmp_path)[0] == 0
    prepared = tmp_path / "usb"
    shutil.copytree(tmp_path / "out", prepared)
    server.close()  # the intranet: no network
    code, _, err = run(
        capsys, "fetch", "modis-ndvi", "--zones", _zones(tmp_path), "--years", "2002-2003",
        "--from", prepared, "--out", tmp_path / "intranet", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    for kind in ("max", "mean"):
        folder = tmp_path / "intranet" / f"modis-ndvi-{kind}"
        names = sorted(p.name for p in folder.iterdir())
        assert names == [f"modis-ndvi-{kind}_2002.tif", f"modis-ndvi-{kind}_2003.tif",
                         "provenance.json"]  # fmt: skip
        record = json.loads((folder / "provenance.json").read_text())
        assert set(record["years"]) == {"2002", "2003"} and record["copied_from"]
        for y in ("2002", "2003"):
            assert _sha(folder / record["years"][y]["file"]) == record["years"][y]["sha256"]


def test_from_a_tampered_folder_exits_2_naming_the_file_and_copies_nothing(
    capsys, tmp_path, server, ndvi_catalog
):
    assert _fetch(capsys, server, tmp_path)[0] == 0
    prepared = tmp_path / "usb"
    shutil.copytree(tmp_path / "out", prepared)
    tampered = prepared / "modis-ndvi-mean" / "modis-ndvi-mean_2003.tif"
    # a valid raster with one value changed
    with rasterio.open(tampered, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as dst:
        data = dst.read(1)
        data[0, 0] = 0.5
        dst.write(data, 1)
    code, _, err = run(
        capsys, "fetch", "modis-ndvi", "--zones", _zones(tmp_path), "--years", "2001-2003",
        "--from", prepared, "--out", tmp_path / "intranet",
    )  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert str(tampered) in err and "does not match the SHA-256" in err
    assert not (tmp_path / "intranet").exists()


def test_from_a_folder_without_the_year_exits_2(capsys, tmp_path, server, ndvi_catalog):
    assert _fetch(capsys, server, tmp_path, years="2001")[0] == 0
    code, _, err = run(
        capsys, "fetch", "modis-ndvi", "--zones", _zones(tmp_path), "--years", "2001-2002",
        "--from", tmp_path / "out", "--out", tmp_path / "intranet",
    )  # fmt: skip
    assert code == 2 and "lists no 2002" in err
    assert not (tmp_path / "intranet").exists()


def test_missing_fetch_dependencies_name_the_extra(capsys, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pystac_client", None)
    code, _, err = run(
        capsys, "fetch", "modis-ndvi", "--zones", _zones(tmp_path), "--years", "2001",
        "--out", tmp_path / "out", "--catalog", "http://127.0.0.1:9/stac",
    )  # fmt: skip
    assert code == 2 and "pip install 'geo-barrier[fetch]'" in err


# ----------------------------------------------------------------------------- signing


def test_planetary_computer_urls_are_signed_once_per_container_and_kept_secret(monkeypatch):
    asked = []

    class Answer:
        def json(self):
            return {"token": "st=1&se=2&sig=SECRET"}

    monkeypatch.setattr(fetch_http, "get", lambda _s, url, **_k: asked.append(url) or Answer())
    sign = fetch_http.signer(None, "https://planetarycomputer.microsoft.com/api/stac/v1")
    a = "https://modiseuwest.blob.core.windows.net/modis-061-cogs/MOD13Q1/00/08/x.tif"
    b = "https://modiseuwest.blob.core.windows.net/modis-061-cogs/MOD13Q1/00/09/y.tif"
    assert sign(a) == a + "?st=1&se=2&sig=SECRET" and sign(b).endswith("y.tif?st=1&se=2&sig=SECRET")
    assert asked == [
        "https://planetarycomputer.microsoft.com/api/sas/v1/token/modiseuwest/modis-061-cogs"
    ]
    assert fetch_http.public_url(sign(a)) == a
    # another catalog: URLs untouched
    assert fetch_http.signer(None, "http://127.0.0.1:1/stac")(a) == a


# ----------------------------------------------------------------------------- live


@pytest.mark.network
def test_live_planetary_computer_ndvi_one_year(capsys, tmp_path):
    zones = _zones(tmp_path, box=(111.6, 40.7, 111.7, 40.8))  # Hohhot, a few MODIS cells
    code, _, err = run(
        capsys, "fetch", "modis-ndvi", "--zones", zones, "--years", "2020",
        "--out", tmp_path / "out", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    got, _ = _read(tmp_path / "out" / "modis-ndvi-max" / "modis-ndvi-max_2020.tif")
    assert np.nanmax(got) <= 1.0 and np.nanmin(got) >= -0.2
