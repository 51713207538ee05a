"""Maps: interactive web maps (:mod:`geo.maps.interactive`, folium) and print figures
(:mod:`geo.maps.static`, matplotlib).

Import the submodules directly; this package imports nothing heavy on its own::

    from geo.maps import interactive, static
"""

__all__ = ["interactive", "static"]
