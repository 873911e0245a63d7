"""A kill at every file write of a bench, each followed by ``--resume``, ends equal to the uninterrupted bench
in values, weights and files, with every executor.

The kill is real: a ``sitecustomize`` put on the bench's path wraps ganzoo's one file writer and, at the
chosen write into ``--out``, leaves the half-written temporary file and ends the process with ``os._exit``
(no cleanup, no lock release, no atexit), as SIGKILL would between two bytes. The default suite kills once
at each kind of file (results.csv, bench.json, config.json, checkpoint, weights, sample sheet) under the
in-process executor, the local pool and Ray (where installed); the every-write test kills at each of the bench's writes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from ganzoo.lock import LOCK_FILE
from ganzoo.results import load_weights, read_results

pytestmark = pytest.mark.slow  # about 3 minutes for the kinds, 25 for every write: run with -m slow

BENCH = [
    "bench",
    "--variants",
    "gan",
    "--dataset",
    "ring8",
    "--metrics",
    "modes",
    "--seeds",
    "2",
    "--budget",
    "40steps",
    "--eval-every",
    "20steps",
    "--checkpoint-every",
    "10steps",
    "--keep-checkpoints",
]
KILLER = """
import os
from pathlib import Path

import ganzoo.results as results

_write, _out = results.atomic_write_bytes, os.environ.get("KILL_OUT")
_count = 0


def atomic_write_bytes(path, data):
    global _count
    path = Path(path)
    if _out and Path(path).absolute().is_relative_to(Path(_out).absolute()):
        _count += 1
        if os.environ.get("KILL_LOG"):
            with open(os.environ["KILL_LOG"], "a") as log:
                log.write(f"{path.absolute().relative_to(Path(_out).absolute())}\\n")
        if os.environ.get("KILL_AT") and _count == int(os.environ["KILL_AT"]):
            path.parent.mkdir(parents=True, exist_ok=True)
            (path.parent / f".{path.name}.killed.tmp").write_bytes(data[: len(data) // 2])  # what the dying write left
            os._exit(137)
    return _write(path, data)


results.atomic_write_bytes = atomic_write_bytes
"""


def kind(written: str) -> str:
    name = Path(written).name
    return "sample sheet" if name.endswith(".png") else name


@pytest.fixture(scope="module")
def killer(tmp_path_factory):
    site = tmp_path_factory.mktemp("killer")
    (site / "sitecustomize.py").write_text(KILLER)
    return site


def ganzoo(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **env}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.pop("SITE", ""), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", "ganzoo", *args], env=env, capture_output=True, text=True, timeout=600)


def files(out: Path) -> set[str]:
    return {str(f.relative_to(out)) for f in out.rglob("*") if f.is_file() and f.name != LOCK_FILE}


def rows(out: Path) -> pd.DataFrame:
    df = read_results(out)
    return (
        df[["run_id", "step", "images_seen", "metric", "value", "detail"]]
        .sort_values(["run_id", "step", "metric"])
        .reset_index(drop=True)
    )


def assert_same(full: Path, out: Path) -> None:
    pd.testing.assert_frame_equal(rows(full), rows(out))
    assert files(full) == files(out), sorted(files(full) ^ files(out))
    for f in sorted(files(full)):
        if f.endswith(".png"):
            assert (full / f).read_bytes() == (out / f).read_bytes(), f
        elif f.endswith(".pt"):
            a, b = torch.load(full / f, weights_only=True), torch.load(out / f, weights_only=True)
            if f.endswith("weights.pt"):
                a, b = load_weights(full / f), load_weights(out / f)
            assert _equal(a, b), f


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):  # device seconds are the clock's, not the trial's: everything else must be equal
        return isinstance(b, dict) and a.keys() == b.keys() and all(k == "seconds" or _equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


RAY = pytest.param(
    "ray",
    marks=pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason='needs Ray: pip install "ganzoo[ray]"'),
)


@pytest.fixture(scope="module", params=["local", "pool", RAY])
def uninterrupted(request, killer, tmp_path_factory):
    """The bench run whole under ``executor``, and the list of its writes into --out, in order."""
    root = tmp_path_factory.mktemp(f"full-{request.param}")
    out, log = root / "out", root / "writes.txt"
    result = ganzoo(
        [*BENCH, "--executor", request.param, "--out", str(out)],
        {"SITE": str(killer), "KILL_OUT": str(out), "KILL_LOG": str(log)},
    )
    assert result.returncode == 0, result.stderr
    return request.param, out, log.read_text().splitlines()


def kill_then_resume(executor: str, killer: Path, out: Path, at: int, started: bool = True) -> None:
    """Kill the bench at write ``at``, then continue it: with ``--resume`` once its bench.json is in place
    (``started``); before that nothing of it is there, --resume says so, and the same command starts it."""
    command = [*BENCH, "--executor", executor, "--out", str(out)]
    killed = ganzoo(command, {"SITE": str(killer), "KILL_OUT": str(out), "KILL_AT": str(at)})
    assert killed.returncode == 137, killed.stderr[-2000:]
    resumed = ganzoo(["bench", "--resume", str(out)], {})
    if not started:
        assert resumed.returncode == 2 and "no bench.json there" in resumed.stderr, resumed.stderr[-2000:]
        resumed = ganzoo(command, {})
    assert resumed.returncode == 0, resumed.stderr[-2000:]


def test_the_writes_cover_every_kind_of_file(uninterrupted):
    executor, _, writes = uninterrupted
    assert {"results.csv", "bench.json", "config.json", "checkpoint.pt", "weights.pt", "sample sheet"} <= {
        kind(w) for w in writes
    }


def test_a_kill_at_each_kind_of_write_then_resume_equals_the_uninterrupted_bench(uninterrupted, killer, tmp_path):
    executor, full, writes = uninterrupted
    # the middle write of each kind: past the bench's start, before its end
    chosen = {}
    for i, w in enumerate(writes, 1):
        chosen.setdefault(kind(w), []).append(i)
    for _, at in sorted((k, v[len(v) // 2]) for k, v in chosen.items()):
        out = tmp_path / f"killed-{at}"
        kill_then_resume(executor, killer, out, at, started=at > writes.index("bench.json") + 1)
        assert_same(full, out)


@pytest.mark.slow
def test_a_kill_at_every_write_then_resume_equals_the_uninterrupted_bench(uninterrupted, killer, tmp_path):
    executor, full, writes = uninterrupted
    first_manifest = writes.index("bench.json") + 1
    for at in range(1, len(writes) + 1):
        out = tmp_path / f"killed-{at}"
        kill_then_resume(executor, killer, out, at, started=at > first_manifest)
        assert_same(full, out)
