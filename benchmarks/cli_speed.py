"""How fast the ``ganzoo`` command answers what needs no training: help, plugin names and one-line input
errors, each timed as the user runs it (a fresh process: interpreter, imports, checks), beside
``python -c "import torch"`` in the same run, so the figure is a ratio this machine's load cannot fake.
Target: each under a second, and a small fraction of importing torch.

    python benchmarks/cli_speed.py --trials 7
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "ganzoo --help": ["ganzoo", "--help"],
    "ganzoo bench --help": ["ganzoo", "bench", "--help"],
    "ganzoo list --names": ["ganzoo", "list", "--names"],
    "ganzoo bench --variants dcgna (misspelt)": ["ganzoo", "bench", "--variants", "dcgna"],
    "ganzoo bench --budget 10parsecs": ["ganzoo", "bench", "--budget", "10parsecs"],
    "ganzoo bench --preset pacgan-rnig": ["ganzoo", "bench", "--preset", "pacgan-rnig"],
    "ganzoo score --help": ["ganzoo", "score", "--help"],
    "ganzoo bench --sweep lucic-wdie": ["ganzoo", "bench", "--sweep", "lucic-wdie"],
}


def timed(argv: list[str]) -> tuple[float, int]:
    """(wall seconds, exit code) of one fresh process."""
    t0 = time.perf_counter()
    rc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - t0, rc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=7)
    args = ap.parse_args()
    ganzoo = shutil.which("ganzoo") or os.path.join(os.path.dirname(sys.executable), "ganzoo")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    walls: dict[str, list[float]] = {name: [] for name in COMMANDS}
    codes: dict[str, int] = {}
    for _ in range(args.trials):  # interleaved, so a load spike hits every command alike
        for name, argv in COMMANDS.items():
            wall, codes[name] = timed([ganzoo, *argv[1:]] if argv[0] == "ganzoo" else argv)
            walls[name].append(wall)
    torch_s = statistics.median(walls["python -c 'import torch'"])
    print(f"{'command':45s} {'median s':>9s} {'max s':>7s} {'/ import torch':>15s} {'exit':>5s}")
    for name, w in walls.items():
        print(
            f"{name:45s} {statistics.median(w):9.2f} {max(w):7.2f} {statistics.median(w) / torch_s:15.2f} {codes[name]:5d}"
        )
    print(f"({args.trials} trials each, interleaved)")


if __name__ == "__main__":
    main()
