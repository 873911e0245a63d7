"""What a bench writes, and how: a tidy long CSV, one config.json per run, sample grids, weights.

Every file is written to a temporary name in the same folder and renamed into place, so a killed
process leaves either the previous complete file or the new complete file, never half of one.
Nothing read back from a results folder is executed: CSV and JSON are parsed as data, weights are
loaded with ``weights_only=True``.
"""

from __future__ import annotations

import io
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import torch

COLUMNS = [
    "run_id", "variant", "divergence", "dataset", "split", "seed",
    "step", "images_seen", "device_seconds", "metric", "value", "detail",
]
MANIFEST = "bench.json"


@dataclass
class Row:
    """One run x evaluation point x metric. ``detail`` carries text (the error of a failed run)."""

    run_id: str
    variant: str
    divergence: str
    dataset: str
    split: str
    seed: int
    step: int
    images_seen: int
    device_seconds: float
    metric: str
    value: float
    detail: str = ""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_torch_save(obj: Any, path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_weights(path: Path) -> dict[str, dict[str, dict[str, torch.Tensor]]]:
    """A run's ``weights.pt``: {"generators": {name: state_dict}, "discriminators": {...}}."""
    return torch.load(path, map_location="cpu", weights_only=True)


class ResultsWriter:
    """Accumulates rows and rewrites ``results.csv`` atomically after each evaluation point."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.rows: list[Row] = []

    def add(self, rows: list[Row]) -> None:
        self.rows.extend(rows)
        self.flush()

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(r) for r in self.rows], columns=COLUMNS)

    def flush(self) -> None:
        atomic_write_text(self.out / "results.csv", self.frame().to_csv(index=False))


def read_results(path: Path) -> pd.DataFrame:
    """Read a results.csv (or a bench folder holding one), checking its columns."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.csv"
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a ganzoo results file, missing columns {', '.join(missing)}")
    df["detail"] = df["detail"].fillna("")
    return df


def _git_revision() -> str | None:
    """Revision of the ganzoo source tree when it is a git checkout (editable installs), else None."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, timeout=5)
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment(device: torch.device) -> dict[str, Any]:
    """Versions, device and revision: what a reader needs to reproduce or distrust a number."""
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "versions": {d: _version(d) for d in ("ganzoo", "torch", "torchvision", "torch-fidelity", "numpy", "pandas")},
        "git_revision": _git_revision(),
        "device": str(device),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    return env


SUMMARY_METRICS = ("fid", "modes", "hq_share")
KEYS = ["dataset", "variant", "divergence"]


def summarise(df: pd.DataFrame, metrics: tuple[str, ...] = SUMMARY_METRICS) -> pd.DataFrame:
    """Final value of each metric per run, aggregated per dataset x variant x divergence x metric:
    mean, std and number of seeds, with the mean budget spent (steps, images, device seconds)."""
    evals = df[df["metric"] != "status"]
    final = evals[evals["step"] == evals.groupby("run_id")["step"].transform("max")]
    picked = final[final["metric"].isin(metrics)]
    if picked.empty:
        return pd.DataFrame()
    stats = picked.groupby(KEYS + ["metric"])["value"].agg(["mean", "std", "count"]).reset_index()
    spent = final.groupby(KEYS)[["step", "images_seen", "device_seconds"]].mean().reset_index()
    return stats.merge(spent, on=KEYS)
