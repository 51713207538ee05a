"""Shared test configuration: every test that drives Chromium carries the ``browser`` marker.

``.ci/run`` runs ``pytest -m browser`` again once Chromium is installed and fails if any of them
still skips, so a browser test can never pass by skipping in CI.
"""

import pytest


@pytest.fixture(autouse=True)
def _fresh_coverage_cache():
    """Each test starts with an empty process coverage cache (as a new process would)."""
    import sys

    zonal = sys.modules.get("geo.zonal")
    if zonal is not None:
        zonal.coverage_cache.clear()
    yield


def pytest_addoption(parser):
    parser.addoption(
        "--network", action="store_true", help="run the tests marked network (live endpoints)"
    )


def pytest_collection_modifyitems(config, items):
    live = pytest.mark.skip(reason="reaches live endpoints: run with pytest --network")
    for item in items:
        if "chrome" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if "network" in item.keywords and not config.getoption("--network"):
            item.add_marker(live)


@pytest.fixture(scope="session")
def cli_report(tmp_path_factory):
    """``barrier report --pdf`` on the shipped data, once per test run (read-only for tests).

    Shared by the test modules that only read the default report's files, so that the
    suite pays for one run of the main job through the command line, not one per module.
    """
    from geo import cli

    out = tmp_path_factory.mktemp("cli-report") / "report"
    cache = tmp_path_factory.mktemp("cli-report-cache")
    assert cli.main(["report", "--quiet", "--pdf", "--out", str(out), "--cache", str(cache)]) == 0
    return out


@pytest.fixture
def barrier(capsys):
    """``barrier(*args)`` runs the command line in-process: ``(code, out, err)``."""
    from geo.testing import run_cli

    return lambda *args: run_cli(*args, capsys=capsys)
