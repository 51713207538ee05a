"""The public sources ``barrier fetch`` knows: what each is, where it lives and how to read it.

Two routes:

- ``stac``: a STAC API (default Microsoft Planetary Computer) searched by collection, bounding box
  and dates; each item's asset is a GeoTIFF (COG).
- ``http``: plain files listed with their checksums (a Zenodo record's API answer, or a
  ``SHA256SUMS``/``MD5SUMS`` text file); each year's file is downloaded whole, checked, cropped.

A source without a default catalog needs ``--catalog`` (its data are not on an open catalog
that serves GeoTIFFs: NASA's own catalog serves HDF4 behind a login).
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import UsageError

__all__ = ["PLANETARY_COMPUTER", "SOURCES", "Source", "get_source"]

#: The default STAC API.
PLANETARY_COMPUTER = "https://planetarycomputer.microsoft.com/api/stac/v1"


@dataclass(frozen=True)
class Source:
    """One public source.

    Attributes
    ----------
    name : str
        Name on the command line (``modis-ndvi`` …).
    what : str
        The product, in words.
    resolution : str
        Cell size on the ground.
    years : tuple of int
        First and last year available (inclusive) when this table was written.
    licence : str
        Licence of the data (SPDX id or terms).
    size : str
        Cells and uncompressed size of one year over the province's box (± 0.05°); the COGs
        are DEFLATE-compressed, class layers several times smaller.
    route : {"stac", "http"}
        How it is fetched.
    catalog : str or None
        Default STAC API (``stac``) or checksum-list URL (``http``); None: ``--catalog`` needed.
    collection : str
        STAC collection id (``stac``).
    asset : str
        Asset key of an item (``stac``), or a regular expression with ``{year}`` matching the
        file name of a year (``http``).
    composites : tuple of str
        ``("max", "mean")``: per-pixel maximum and mean over the items of a year, one folder
        each (``<source>-max``, ``<source>-mean``); ``("mosaic",)``: the year's items mosaicked
        (first item wins where they overlap), one folder ``<source>``.
    months : tuple of int
        First and last month of the items used (inclusive); ``(1, 12)`` for the whole year.
    scale : float
        Factor turning stored integers into values (MOD13Q1 NDVI: 0.0001); 1 keeps the type.
    categorical : bool
        Classes (resampled by nearest neighbour, never averaged).
    valid : tuple of float, optional
        Valid range of the stored values (inclusive); others are no data even where the
        file declares no nodata (MOD13Q1 fill -3000, MOD44B water 200 and fill 253).
    quality : str
        Asset key of a per-pixel quality raster of each item (``stac``), or ``""``.
    good : tuple of int
        Quality values kept (MOD13Q1 pixel reliability: 0 good, 1 marginal; 2 snow or ice and
        3 cloudy are no data).
    """

    name: str
    what: str
    resolution: str
    years: tuple[int, int]
    licence: str
    size: str
    route: str
    catalog: str | None
    collection: str = ""
    asset: str = ""
    composites: tuple[str, ...] = ("mosaic",)
    months: tuple[int, int] = (1, 12)
    scale: float = 1.0
    categorical: bool = True
    valid: tuple[float, float] | None = None
    quality: str = ""
    good: tuple[int, ...] = ()

    def folders(self) -> dict[str, str]:
        """The output folder name of each composite (also the file-name prefix).

        Returns
        -------
        dict of str to str
            ``{"max": "modis-ndvi-max", …}`` or ``{"mosaic": "worldcover"}``.
        """
        if self.composites == ("mosaic",):
            return {"mosaic": self.name}
        return {c: f"{self.name}-{c}" for c in self.composites}

    def rule(self) -> str:
        """The composite rule in words, for provenance.

        Returns
        -------
        str
        """
        months = f"items dated in months {self.months[0]}–{self.months[1]} of the year"
        if self.composites == ("mosaic",):
            return f"mosaic of the {months} (first item wins where items overlap)"
        scale = f", times {self.scale}" if self.scale != 1 else ""
        ignored = "nodata" + (f", values outside {self.valid}" if self.valid else "")
        if self.quality:
            ignored += f", cells whose {self.quality} is not in {self.good}"
        return (
            f"per-pixel {' and '.join(self.composites)} over the {months}, {ignored} ignored{scale}"
        )


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "modis-ndvi",
            "MODIS 13Q1 v061 NDVI, 16-day (every item of the collection: Terra MOD13Q1, and Aqua "
            "MYD13Q1 where it holds them); yearly growing-season (May–September) "
            "maximum and mean composites computed locally",
            "250 m",
            (2000, 2025),
            "public domain (NASA LP DAAC, no restrictions)",
            "156 M cells, 0.63 GB per composite and year",
            "stac",
            PLANETARY_COMPUTER,
            collection="modis-13Q1-061",
            asset="250m_16_days_NDVI",
            composites=("max", "mean"),
            months=(5, 9),
            scale=0.0001,
            categorical=False,
            valid=(-2000, 10000),
            quality="250m_16_days_pixel_reliability",
            good=(0, 1),
        ),
        Source(
            "modis-treecover",
            "MODIS MOD44B v061 vegetation continuous fields: percent tree cover, yearly",
            "250 m",
            (2000, 2023),
            "public domain (NASA LP DAAC, no restrictions)",
            "156 M cells, 0.16 GB per year",
            "stac",
            None,
            collection="modis-44B-061",
            asset="Percent_Tree_Cover",
            categorical=False,
            valid=(0, 100),
        ),
        Source(
            "modis-landcover",
            "MODIS MCD12Q1 v061 land cover type 1 (IGBP), yearly",
            "500 m",
            (2001, 2023),
            "public domain (NASA LP DAAC, no restrictions)",
            "39 M cells, 0.04 GB per year",
            "stac",
            None,
            collection="modis-12Q1-061",
            asset="LC_Type1",
        ),
        Source(
            "worldcover",
            "ESA WorldCover land cover (11 classes) from Sentinel-1 and -2",
            "10 m",
            (2020, 2021),
            "CC-BY-4.0 (© ESA WorldCover project)",
            "67 G cells, 67 GB per year: fetch a league or banner at a time",
            "stac",
            PLANETARY_COMPUTER,
            collection="esa-worldcover",
            asset="map",
        ),
        Source(
            "jrc-water",
            "JRC Global Surface Water yearly classification (0 no data, 1 not water, "
            "2 seasonal, 3 permanent water)",
            "30 m",
            (1984, 2021),
            "CC-BY-4.0 (© European Commission JRC)",
            "5.4 G cells, 5.4 GB per year",
            "http",
            None,
            asset=r"(?i)(yearly\w*?|jrc\w*?)[_-]?{year}\.tif",
        ),
        Source(
            "clcd",
            "CLCD, China Land Cover Dataset (Yang & Huang, Wuhan University), 9 classes, yearly",
            "30 m",
            (1985, 2023),
            "CC-BY-4.0",
            "5.4 G cells, 5.4 GB per year (from a whole-China file of ≈ 1–2 GB)",
            "http",
            "https://zenodo.org/api/records/12779975",
            asset=r"(?i)CLCD_v\d+_{year}_albert\.tif",
        ),
    )
}


def get_source(name: str) -> Source:
    """The source called ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`SOURCES`.

    Returns
    -------
    Source

    Raises
    ------
    geo.errors.UsageError
        An unknown name (the message lists the known ones).
    """
    try:
        return SOURCES[name]
    except KeyError:
        raise UsageError(f"unknown source {name!r}; choose one of {', '.join(SOURCES)}") from None
