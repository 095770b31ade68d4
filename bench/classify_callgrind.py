"""Instructions per listing, which machine load does not move: `python bench/classify_callgrind.py [ROOT] [WHAT] [N]`.

Runs `bench/classify.py`'s synthetic listings through the classifier of the checkout at ROOT (default:
this one; e.g. a `git archive` of another commit, to compare back to back) under valgrind's callgrind
with instrumentation switched on only around the timed part (N listings, default 100, warm caches).
WHAT: normalise, scan, weigh, rules (classify rules alone + to_dict), one (classify per call + to_dict)
or many (classify_many + to_dict). Needs valgrind; takes a minute or two (start-up runs under it too).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def workload(root: str, what: str, n: int, flag: str) -> None:
    sys.path[:0] = [root, root + "/bench"]
    from collections import deque

    from classify import synthetic

    from classifier import classify, load_watchlist
    from classifier.classify import classify_many
    from classifier.normalise import normalise
    from classifier.rules import weigh

    wl = load_watchlist(root + "/watchlist.yaml")
    listings, other = synthetic(n, 7), synthetic(1000, 8)

    def drain(batch):
        deque((r.to_dict() for r in classify_many(batch, wl)), maxlen=0)

    runs = {
        "normalise": lambda: deque(((normalise(a), normalise(b)) for a, b in listings), maxlen=0),
        "scan": lambda: deque(
            ((wl.matcher.scan(a, "title"), wl.matcher.scan(b, "description")) for a, b in listings), maxlen=0
        ),
        "weigh": lambda: deque((weigh(a, b, wl) for a, b in listings), maxlen=0),
        "rules": lambda: deque((classify(a, b, wl, "rules").to_dict() for a, b in listings), maxlen=0),
        "one": lambda: deque((classify(a, b, wl).to_dict() for a, b in listings), maxlen=0),
        "many": lambda: drain(listings),
    }
    drain(other), runs[what](), drain(other)  # every word met once, then other words: warm caches
    Path(flag + ".ready").touch()
    while not os.path.exists(flag + ".go"):
        time.sleep(0.05)
    runs[what]()
    Path(flag + ".done").touch()
    while not os.path.exists(flag + ".off"):
        time.sleep(0.05)


def wait_for(path: str, process: subprocess.Popen) -> None:
    while not os.path.exists(path):
        if process.poll() is not None:
            sys.exit(f"the workload stopped early (exit {process.returncode})")
        time.sleep(0.2)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--workload":
        workload(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    root = str(Path(sys.argv[1]).resolve()) if len(sys.argv) > 1 else str(HERE)
    what = sys.argv[2] if len(sys.argv) > 2 else "many"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    with tempfile.TemporaryDirectory() as tmp:
        flag, out = f"{tmp}/flag", f"{tmp}/callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
        process = subprocess.Popen(
            command + [sys.executable, __file__, "--workload", root, what, str(n), flag], stderr=subprocess.DEVNULL
        )
        wait_for(flag + ".ready", process)
        subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], capture_output=True, check=False)
        Path(flag + ".go").touch()
        wait_for(flag + ".done", process)
        subprocess.run(["callgrind_control", "-i", "off", str(process.pid)], capture_output=True, check=False)
        Path(flag + ".off").touch()
        process.wait()
        total = 0
        for path in Path(tmp).glob("callgrind.out*"):
            for line in path.read_text().splitlines():
                if line.startswith("totals:"):  # the header's "summary:" is 0 when started uninstrumented
                    total += int(line.split()[1])
                    break
    print(f"{what}: {total / n / 1000:,.1f}k instructions per listing ({n} listings, {root})")


if __name__ == "__main__":
    main()
