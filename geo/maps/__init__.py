"""Maps: interactive web maps and print figures.

The web maps are :mod:`geo.maps.interactive` (folium), the print figures :mod:`geo.maps.static`
(matplotlib).

Import the submodules directly; this package imports nothing heavy on its own::

    from geo.maps import interactive, static

The modules by concern: :mod:`~geo.maps.classes` (classes, palettes, number formatting and
labels shared by web and print), :mod:`~geo.maps.geometry` (simplification for the screen),
:mod:`~geo.maps.elements` (Leaflet pieces), :mod:`~geo.maps.popups`,
:mod:`~geo.maps.overlays` (hillshade, raster overlays, outlines, rivers and towns),
:mod:`~geo.maps.offline` (inlined assets), :mod:`~geo.maps.battle` (the battle-zone web map),
:mod:`~geo.maps.layout` (print-figure furniture) and :mod:`~geo.maps.reportmaps` (the report's
maps and figures). The drawing receives its data; only the public entry points of
``interactive`` and ``static`` read the shipped data a caller leaves out.
"""

__all__ = ["interactive", "static"]
