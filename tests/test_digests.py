"""Each input file is hashed once per run (a stack can be gigabytes), never a stale digest."""

from __future__ import annotations

import hashlib
import os

from geo import data


def _counting(monkeypatch) -> list:
    reads: list = []
    original = data._file_digest

    def counted(path, chunk):
        reads.append(os.path.basename(path))
        return original(path, chunk)

    monkeypatch.setattr(data, "_file_digest", counted)
    return reads


def test_one_read_per_file_in_a_run_and_a_changed_file_read_again(tmp_path, monkeypatch):
    reads = _counting(monkeypatch)
    path = tmp_path / "a.bin"
    path.write_bytes(b"first")
    with data.remembered_digests():
        one = data.sha256(path)
        assert data.sha256(path) == one == hashlib.sha256(b"first").hexdigest()
        assert reads == ["a.bin"]
        path.write_bytes(b"second, longer")  # changed inside the run: never a stale digest
        assert data.sha256(path) == hashlib.sha256(b"second, longer").hexdigest()
        same_size = b"SECOND, LONGER"
        path.write_bytes(same_size)
        os.utime(path, ns=(1, 1))  # same size, another modification time
        assert data.sha256(path) == hashlib.sha256(same_size).hexdigest()
    assert len(reads) == 3
    data.sha256(path)
    data.sha256(path)  # outside a run every call reads
    assert len(reads) == 5
