"""Shared test configuration: every test that drives Chromium carries the ``browser`` marker.

``.ci/run`` runs ``pytest -m browser`` again once Chromium is installed and fails if any of them
still skips, so a browser test can never pass by skipping in CI.
"""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "chrome" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
