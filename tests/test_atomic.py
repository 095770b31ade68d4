"""Exported files appear whole or not at all, and are as shareable as the umask says."""

import os
import stat

import pytest

from common.atomic import atomic_output


def test_error_leaves_neither_file_nor_temporary(tmp_path):
    out = tmp_path / "pack.zip"
    with pytest.raises(RuntimeError):
        with atomic_output(out) as fh:
            fh.write(b"half")
            raise RuntimeError("disk on fire")
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_only_on_success(tmp_path):
    out = tmp_path / "x.warc.gz"
    out.write_bytes(b"old")
    with pytest.raises(ValueError):
        with atomic_output(out) as fh:
            fh.write(b"new")
            raise ValueError
    assert out.read_bytes() == b"old"
    with atomic_output(out) as fh:
        fh.write(b"new")
    assert out.read_bytes() == b"new"


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "f") as fh:
            fh.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o644
