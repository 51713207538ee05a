"""``python -m geo.cli``: the ``barrier`` command."""

import sys

from geo.cli.main import main

sys.exit(main())
