import os

import pytest

from geo.errors import OutputError
from geo.outputs import atomic_path, check_writable, staged_dir


def _ours(folder, *names):
    """Mark a folder as an earlier output of barrier: a manifest listing its files."""
    import json

    record = {"tool": "barrier (geo-barrier)", "outputs": [{"path": n} for n in names]}
    (folder / "manifest.json").write_text(json.dumps(record))


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_staged_dir_keeps_old_report_on_failure(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "a.csv").write_text("old")
    _ours(out, "a.csv")
    with pytest.raises(RuntimeError), staged_dir(out) as stage:
        (stage / "a.csv").write_text("new")
        raise RuntimeError("crash half-way")
    assert (out / "a.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_staged_dir_swaps_in_whole(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "stale.csv").write_text("old")
    _ours(out, "stale.csv")
    with staged_dir(out) as stage:
        (stage / "a.csv").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_full_disk_is_a_clear_error(tmp_path, monkeypatch):
    import errno
    import os

    def no_space(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OutputError, match="no space left"), atomic_path(tmp_path / "x.csv") as tmp:
        tmp.write_text("data")
    assert list(tmp_path.iterdir()) == []


def test_check_writable_refuses_a_file_as_folder(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        check_writable(f / "out")


def test_orphans_of_killed_runs_are_removed(tmp_path):
    out = tmp_path / "report"
    orphan = tmp_path / ".report.staging-999999999-abc"
    orphan.mkdir()
    (orphan / "half.csv").write_text("half")
    live = tmp_path / f".report.staging-{os.getpid()}-xyz"  # a run still going: kept
    live.mkdir()
    with staged_dir(out) as stage:
        (stage / "a.csv").write_text("new")
    assert not orphan.exists() and live.exists()


def test_killed_report_leaves_old_report_intact(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "report"
    out.mkdir()
    (out / "old.csv").write_text("previous run")
    _ours(out, "old.csv")
    barrier = [sys.executable, "-c", "import sys; from geo.cli import main; sys.exit(main())"]
    env = {**os.environ, "GEO_BARRIER_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen([*barrier, "report", "--out", str(out), "--quiet"], env=env)
    deadline = time.time() + 120
    while not list(tmp_path.glob(".report.staging-*")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # let it write some files into the staging folder
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "old.csv"]
    assert (out / "old.csv").read_text() == "previous run"
    done = subprocess.run(
        [*barrier, "report", "--out", str(out), "--quiet", "--tables-only"], env=env
    )
    assert done.returncode == 0
    assert (out / "manifest.json").exists() and not (out / "old.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "report"]
