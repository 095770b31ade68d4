"""Files that appear whole or not at all: evidence packs, WARC exports, reports, the model, the job state.

A crash or a full disk mid-write leaves the previous file (or none), never half of one.
"""

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path):
    """Yield a binary file open beside `path`; on success it replaces `path`, on any error it is removed.

    mkstemp makes files private (0600); these files are meant to be shared, so the umask decides instead.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_text(path, text: str) -> None:
    """Write `text` (UTF-8) to `path` through atomic_output."""
    with atomic_output(path) as fh:
        fh.write(text.encode("utf-8"))
