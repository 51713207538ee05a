"""The notebooks are committed executed, small, and their saved numbers match a fresh run.

Readers see the saved outputs on GitHub, so the outputs must exist and must not be stale:
every cell tagged ``check`` (the cells that print the numbers the text quotes, and assert them
against an independent computation) is re-executed in a temporary cache and its printed text
must equal the saved text. ``make notebooks`` (``python tests/test_notebooks.py``) re-executes
the notebooks and saves them in place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: Largest saved notebook (bytes): readers download it on GitHub.
MAX_BYTES = 1_500_000
CHECK = "check"


def execute(path: Path, cache: Path | None = None) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in its own folder; return it with fresh outputs."""
    nb = nbformat.read(path, as_version=4)
    env = {} if cache is None else {"GEO_BARRIER_CACHE": str(cache)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            record_timing=False,  # no timestamps in the saved file: diffs show only real changes
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def printed(cell) -> str:
    """What a cell printed and returned, as text (stdout and ``text/plain``; no stderr)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stdout":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def checked(nb) -> list[tuple[int, str]]:
    """(cell number, printed text) of every code cell tagged ``check``."""
    return [
        (i, printed(c))
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and CHECK in c.get("metadata", {}).get("tags", [])
    ]


def _errors(nb) -> list[str]:
    return [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]


def test_notebooks_exist():
    names = {p.stem for p in NOTEBOOKS}
    assert {
        "01_quickstart",
        "02_battle_zones",
        "03_your_own_data",
        "04_methods_and_sensitivity",
        "05_validation",
        "06_monitoring",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_saved_outputs(path):
    """Committed executed (every code cell ran, in order, without error), checked, small."""
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size:,} bytes; keep figures and maps small"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert None not in counts, f"{path.name}: cells not executed; run `make notebooks`"
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: not run top to bottom"
    assert not _errors(nb), _errors(nb)
    assert all(printed(c) or c.outputs for c in code if CHECK in c.metadata.get("tags", []))
    # a notebook that teaches: checks of its numbers and words between the code
    assert len(checked(nb)) >= 2, f"{path.name}: fewer than 2 cells tagged {CHECK!r}"
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= len(code) // 2


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_matches_saved(path, tmp_path):
    """Runs top to bottom in an empty cache; the checked numbers equal the saved ones."""
    saved = nbformat.read(path, as_version=4)
    fresh = execute(path, tmp_path / "cache")
    assert not _errors(fresh), _errors(fresh)
    assert fresh.cells[-1].cell_type == "markdown" or fresh.cells[-1].outputs
    for (i, old), (j, new) in zip(checked(saved), checked(fresh), strict=True):
        assert i == j
        assert new == old, (
            f"{path.name}, cell {i}: the saved output differs from a fresh run; "
            f"run `make notebooks` and commit.\n--- saved\n{old}\n--- fresh\n{new}"
        )


def main(argv: list[str]) -> int:
    """Re-execute notebooks (all, or the paths given) and save them in place."""
    paths = [Path(a) for a in argv] or NOTEBOOKS
    for path in paths:
        nb = execute(path)
        if _errors(nb):
            print(f"{path}: {_errors(nb)}", file=sys.stderr)
            return 1
        nbformat.write(nb, path)
        print(f"{path}: {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
