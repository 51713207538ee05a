"""The ``barrier`` command, one module per subcommand (after ``rasterio.rio``).

:mod:`geo.cli.main` builds the parser and turns errors into exit codes;
:mod:`geo.cli.options` declares the options shared by several subcommands;
:mod:`geo.cli.helpers` holds what the subcommands share (zones, provenance, table output);
each subcommand (``report``, ``zones``, ``layers``, ``stats``, ``map``, ``change``, ``bench``,
``lookup``) is a module with ``add_parser(subparsers)`` and ``run(args)``.

Exit codes: 0 success; 2 bad usage or bad input (one line on stderr naming the input and
the fix, no traceback); 1 an unexpected internal error (with traceback, please report it).
"""

from geo.cli.main import main
from geo.cli.options import ZONE_SETS

__all__ = ["ZONE_SETS", "main"]
