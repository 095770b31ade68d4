"""A crawl run in a process of its own with one of its worker processes killed (SIGKILL) mid-way."""

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.support.cli import ROOT


def workers_named(pid: int, name: str) -> list[int]:
    """The child processes of `pid` that named themselves `name` (spiders/pipelines/workers.py)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            try:
                if Path(f"/proc/{child}/comm").read_text().strip() == name:
                    found.append(int(child))
            except OSError:
                continue
    return found


def crawl_killing(
    command: list[str], worker: str, ready, timeout: float = 120
) -> tuple[subprocess.CompletedProcess, object]:
    """Run `command` (a crawl) and SIGKILL its workers named `worker` as soon as `ready(pid)` returns anything but
    None; returns the finished crawl (its output as bytes) and what `ready` returned then (None: never killed)."""
    crawl = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline, killed_at = time.monotonic() + timeout, None
        while killed_at is None and time.monotonic() < deadline and crawl.poll() is None:
            seen = ready(crawl.pid)
            if seen is not None:
                for pid in workers_named(crawl.pid, worker):
                    os.kill(pid, signal.SIGKILL)
                    killed_at = seen
            time.sleep(0.02)
        out, err = crawl.communicate(timeout=300)
    finally:
        if crawl.poll() is None:
            crawl.kill()
    return subprocess.CompletedProcess(command, crawl.returncode, out, err), killed_at
