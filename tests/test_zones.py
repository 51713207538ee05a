"""Battle zones: membership table, geometry, areas, user CSVs and context overlays."""

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from geo import boundaries, zones
from geo.crs import area_km2
from geo.data import data_path
from geo.errors import ZoneError

CSV = data_path("zones", "battle_zones.csv")


@pytest.fixture(scope="module")
def counties():
    return boundaries.load("county").set_index("adcode")


@pytest.fixture(scope="module")
def table():
    return zones.membership()


@pytest.fixture(scope="module")
def battle():
    return zones.load("battle")


@pytest.fixture(scope="module")
def parts():
    return zones.load("battle_part")


def _rows(path: Path = CSV) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def test_closure_zone_banners_in_hexi_with_high_confidence(table):
    hexi = table[table.zone == "hexi_taklimakan"]
    for adcode in ("152922", "152923"):
        rows = hexi[hexi.adcode == adcode]
        assert "high" in set(rows.confidence), adcode
    assert set(hexi.adcode) == {"152922", "152923"}


def test_every_row_sourced_or_inferred_and_sources_documented(table):
    sourced = table.source.str.len() > 0
    inferred = table.basis.str.lower().str.startswith("inferred")
    assert (sourced | inferred).all()
    assert table.basis.str.match(r"(named in source|inferred)").all()
    assert set(table.confidence) <= set(zones.CONFIDENCE)
    documented = set(re.findall(r"\*\*(S\d+b?)\*\*", data_path("zones", "SOURCES.md").read_text()))
    cited = {s for cell in table.source for s in cell.split(";") if s}
    assert cited <= documented, cited - documented


def test_names_agree_with_boundaries(table, counties):
    raw = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    for col in ("name_zh", "name_en", "league_adcode"):
        assert (raw[col].to_numpy() == counties.loc[raw.adcode, col].to_numpy()).all(), col
    assert list(table.columns) == list(zones.MEMBERSHIP_COLUMNS)


def test_counts_match_csv_and_official_counts(table, battle):
    for zone, row in battle.iterrows():
        members = set(table.loc[table.zone == zone, "adcode"])
        assert row.n_banners == len(members)
        assert row.members.split(",") == sorted(members)
    # Official counts: Ji-Zi-Wan 7 leagues / 35 banners (S1); Hunshandake 3 leagues / 21 (S4).
    jzw = set(table.loc[table.zone == "jizhiwan", "adcode"])
    assert len(jzw) == 35 and len({a[:4] for a in jzw}) == 7
    hsd = set(table.loc[table.part.str.startswith("hunshandake"), "adcode"])
    assert len(hsd) == 21 and len({a[:4] for a in hsd}) == 3
    assert list(battle.index) == ["jizhiwan", "horqin_hunshandake", "hexi_taklimakan"]
    assert (battle.level == "battle").all() and battle.crs.to_epsg() == 4326


def test_zone_and_part_areas_equal_member_sums(table, counties, battle, parts):
    for frame, keys in ((battle, ["zone"]), (parts, ["zone", "part"])):
        for key, group in table.groupby(keys):
            key = key if isinstance(key, tuple) else (key,)
            zone_id = "/".join(key)
            expected = counties.loc[sorted(set(group.adcode)), "area_km2"].sum()
            assert frame.at[zone_id, "area_km2"] == pytest.approx(expected, rel=1e-12)
    union = area_km2(battle)
    assert ((union / battle.area_km2 - 1).abs() < 1e-3).all()
    assert set(parts.index) >= {"horqin_hunshandake/hunshandake_west", "jizhiwan/mu_us"}
    assert (parts.level == "battle_part").all()


def test_edited_csv_changes_zone_without_code_change(tmp_path, battle, counties):
    rows = [r for r in _rows() if r[0] != "152923"]  # drop Ejin Banner
    path = _write(tmp_path / "edited.csv", rows)
    edited = zones.load("battle", membership=path)
    before, after = battle.loc["hexi_taklimakan"], edited.loc["hexi_taklimakan"]
    assert after.n_banners == before.n_banners - 1 == 1
    assert after.area_km2 == pytest.approx(before.area_km2 - counties.at["152923", "area_km2"])
    assert after.area_km2 < before.area_km2
    assert (
        zones.load("battle_part", membership=path).at["hexi_taklimakan/badain_jaran", "n_banners"]
        == 1
    )


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("adcode", "159999", "159999"),
        ("zone", "gobi_battle", "unknown zone"),
        ("confidence", "certain", "confidence"),
        ("adcode", "", "'adcode' field is empty"),
        ("zone", "", "'zone' field is empty"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, column, value, needle):
    rows = _rows()
    col = rows[0].index(column)
    rows[5][col] = value  # the 5th data row is line 6 of the file
    path = _write(tmp_path / "bad.csv", rows)
    with pytest.raises(ZoneError, match=re.escape(needle)) as err:
        zones.load("battle", membership=path)
    assert f"{path}, line 6" in str(err.value)


def test_missing_column_and_short_row(tmp_path):
    rows = [r[:-1] for r in _rows()]  # no confidence column
    path = _write(tmp_path / "nocol.csv", rows)
    with pytest.raises(ZoneError, match=r"line 1: .*confidence"):
        zones.membership(path)
    rows = _rows()
    rows[3] = rows[3][:4]
    path = _write(tmp_path / "short.csv", rows)
    with pytest.raises(ZoneError, match=r"line 4: 4 fields"):
        zones.load("battle_part", membership=path)


def test_unsourced_row_and_duplicate_are_rejected(tmp_path):
    rows = _rows()
    src, basis = rows[0].index("source"), rows[0].index("basis")
    rows[2][src], rows[2][basis] = "", "named in source"
    with pytest.raises(ZoneError, match="line 3: no source"):
        zones.membership(_write(tmp_path / "nosrc.csv", rows))
    rows = _rows()
    rows.append(rows[1])
    with pytest.raises(ZoneError, match=rf"line {len(rows)}: .*listed twice.*line 2"):
        zones.membership(_write(tmp_path / "dup.csv", rows))


def test_membership_option_only_for_battle_levels():
    with pytest.raises(ZoneError, match="membership"):
        zones.load("county", membership=CSV)
    assert len(zones.load("league")) == 12


def test_context_overlays_hold_mu_us_not_banner_unions():
    overlays = zones.context_overlays()
    assert "Mu Us Desert" in overlays.index
    assert set(overlays.featurecla) == {"Desert"}
    assert overlays.crs.to_epsg() == 4326
    assert overlays.note.str.contains("not area statistics").all()
    assert list(overlays.columns) == ["name", "featurecla", "note", "geometry"]
