"""One compiled watchlist per file version per process: a crawl asks for it in several places."""

import os
import shutil

from classifier import shared_watchlist
from common.settings import ROOT


def test_same_file_gives_the_same_watchlist_and_an_edit_gives_a_new_one(tmp_path):
    path = tmp_path / "watchlist.yaml"
    shutil.copy(ROOT / "watchlist.yaml", path)
    first = shared_watchlist(path)
    assert shared_watchlist(str(path)) is first
    path.write_text(path.read_text() + "\n# edited\n")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    edited = shared_watchlist(path)
    assert edited is not first and edited.version != first.version
