"""What a bench writes, and how: a tidy long CSV, one config.json per run, sample grids, weights.

Every file is written to a temporary name in the same folder and renamed into place, so a killed
process leaves either the previous complete file or the new complete file, never half of one.
Nothing read back from a results folder is executed: CSV and JSON are parsed as data, weights are
loaded with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import torch

PROVENANCE = ["features", "features_sha256", "reference", "reference_images", "generated_images", "resize"]
COLUMNS = [
    "run_id",
    "variant",
    "divergence",
    "dataset",
    "split",
    "seed",
    "step",
    "images_seen",
    "device_seconds",
    "metric",
    "value",
    "detail",
    *PROVENANCE,
    "budget",
    "settings",
]
MANIFEST = "bench.json"
LOWER, HIGHER = "lower", "higher"  # which way a value is better, as a metric declares it and bench.json records it


def direction(directions: dict[str, str], metric: str) -> str | None:
    """ "lower", "higher" or None (undeclared) for a value name such as ``fid`` or ``fid/inverted``."""
    return directions.get(metric, directions.get(metric.split("/", 1)[0]))


def _umask() -> int:
    """The process umask now, read without changing it where Linux reports it (thread-safe); elsewhere
    by setting it and putting it back at once (os.umask can only be read that way)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
    features: str = ""  # provenance of a metric value: feature space and a hash of its weights,
    features_sha256: str = ""  # reference set and its size, generated sample count, resizing
    reference: str = ""
    reference_images: int | None = None
    generated_images: int | None = None
    resize: str = ""
    budget: str = ""  # the bench's budget, e.g. "2000steps"
    settings: str = (
        ""  # the user's hyper-parameter overrides for this run, "key=value;..." sorted (--set, --batch-size)
    )


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a shared results folder or cache must follow the umask
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def torch_load_reason(exc: Exception) -> str:
    """What is wrong with a file ``torch.load(weights_only=True)`` refused, in one line: the unpickler's own complaint
    (a global it will not run), else the first line of torch's several-line message."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    said = next((line for line in lines if line.startswith("WeightsUnpickler error:")), lines[0] if lines else "")
    said = said.removeprefix("WeightsUnpickler error:").strip()
    if said.startswith("Weights only load failed"):
        return "not a file torch.load reads with weights_only=True"
    return said.split(". Please use")[0][:160]


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_torch_save(obj: Any, path: Path) -> None:
    import torch  # here, not at the top: reading and tabling results needs no torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_weights(path: Path) -> dict[str, dict[str, dict[str, torch.Tensor]]]:
    """A run's ``weights.pt``: {"generators": {name: state_dict}, "discriminators": {...}}."""
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


class ResultsWriter:
    """Accumulates rows and rewrites ``results.csv`` atomically after each evaluation point; a resumed
    bench starts from the rows it keeps."""

    def __init__(self, out: Path, rows: list[Row] | None = None, order: list[str] | None = None) -> None:
        self.out = Path(out)
        self.rows: list[Row] = list(rows or [])
        # rows of trials that ran at the same time arrive interleaved; the file keeps the plan's trial order
        self.order = {run_id: i for i, run_id in enumerate(order or [])}

    def add(self, rows: list[Row]) -> None:
        self.rows.extend(rows)
        self.flush()

    def frame(self) -> pd.DataFrame:
        rows = sorted(self.rows, key=lambda r: self.order.get(r.run_id, len(self.order))) if self.order else self.rows
        df = pd.DataFrame([asdict(r) for r in rows], columns=COLUMNS)
        return df.astype({"reference_images": "Int64", "generated_images": "Int64"})

    def flush(self) -> None:
        df = self.frame()
        # NaN (a metric undefined at this point) is written as "nan", not as an empty cell, so it reads back as NaN
        df["value"] = [("nan" if math.isnan(v) else v) for v in df["value"]]
        atomic_write_text(self.out / "results.csv", df.to_csv(index=False))


class ResultsFileError(ValueError):
    """A results file that is not a ganzoo results table: says which file, row and column."""


_NUMERIC = {"seed": True, "step": True, "images_seen": True, "device_seconds": False, "value": False}


def read_results(path: Path) -> pd.DataFrame:
    """Read a results.csv (or a bench folder holding one), checking columns and values row by row.

    Only parsed as data: nothing in a results file is executed."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.csv"
    if not path.is_file():
        raise ResultsFileError(f"{path}: no such results file")
    try:
        df = pd.read_csv(
            path,
            keep_default_na=False,
            na_values=[""],
            dtype={"detail": str, "features": str, "resize": str, "budget": str, "settings": str, "value": str},
        )
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ResultsFileError(f"{path}: not a CSV file ({type(exc).__name__}: {' '.join(str(exc).split())})") from None
    missing = [c for c in COLUMNS[: COLUMNS.index("detail")] if c not in df.columns]
    if missing:
        raise ResultsFileError(f"{path}: not a ganzoo results file, missing column(s) {', '.join(missing)}")
    if df.empty:
        raise ResultsFileError(
            f"{path}: no results yet (the bench wrote no row: it was stopped before its first evaluation, "
            "or is still preparing; `ganzoo bench --resume` continues a stopped one)"
        )
    for col in ("detail", *PROVENANCE, "budget", "settings"):
        if col not in df.columns:  # files from before these columns existed
            df[col] = pd.NA
    for col, integral in _NUMERIC.items():
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() & ~(
            (col == "value") & (df["metric"].eq("status") & df[col].isna() | df[col].astype(str).str.lower().eq("nan"))
        )
        if integral:
            bad |= ~num.isna() & ((num % 1 != 0) | (num < 0))
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise ResultsFileError(
                f"{path}: line {i + 2} (data row {i + 1}), column {col!r}: invalid value {df[col].iloc[i]!r}"
            )
        df[col] = num.astype("int64") if integral else num.astype(float)
    for col in ("run_id", "variant", "divergence", "dataset", "metric"):
        empty = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if empty.any():
            i = int(empty.to_numpy().nonzero()[0][0])
            raise ResultsFileError(f"{path}: line {i + 2} (data row {i + 1}), column {col!r}: empty")
    for col in ("detail", "budget", "settings"):
        df[col] = df[col].fillna("")
    df["source"] = str(path)
    return df[[*COLUMNS, "source"]]


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from a file a run left (its config.json), or {} when it is missing, torn or not an object."""
    try:
        obj = json.loads(Path(path).read_text())
        return obj if isinstance(obj, dict) else {}
    except (OSError, ValueError):
        return {}


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The bench.json of a bench folder (or beside a results file), parsed as data; None when there is
    none. A file that is not a ganzoo bench.json is a ResultsFileError naming it."""
    path = Path(path)
    manifest = (path if path.is_dir() else path.parent) / MANIFEST
    if not manifest.is_file():
        return None
    try:
        obj = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsFileError(f"{manifest}: not a ganzoo bench.json ({exc})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("config"), dict):
        raise ResultsFileError(f"{manifest}: not a ganzoo bench.json (no config)")
    return obj


def utc_now() -> str:
    """A timestamp for config.json and bench.json."""
    return datetime.now(timezone.utc).isoformat()


def rows_from_frame(df: pd.DataFrame) -> list[Row]:
    """Rows read back by :func:`read_results`, as the writer holds them (a resumed bench keeps them)."""
    out = []
    for rec in df[COLUMNS].to_dict("records"):
        for col in ("reference_images", "generated_images"):
            rec[col] = None if pd.isna(rec[col]) else int(rec[col])
        for col in ("detail", "features", "features_sha256", "reference", "resize", "budget", "settings"):
            rec[col] = "" if pd.isna(rec[col]) else str(rec[col])
        out.append(Row(**rec))
    return out


def source_sha256(paths: list[Path]) -> str:
    """sha256 over the .py files under ``paths`` (files or folders), by relative path: changes when the
    code of an editable install changes, which its version number does not."""
    h = hashlib.sha256()
    for root in paths:
        root = Path(root)
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for f in files:
            if "__pycache__" in f.parts or not f.is_file():
                continue
            h.update(str(f.relative_to(root.parent)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _git_revision() -> str | None:
    """Revision of the ganzoo source tree when it is a git checkout (editable installs), else None."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        )
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
    import torch

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


KEYS = ["dataset", "variant", "divergence"]
