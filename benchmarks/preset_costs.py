"""Every preset run end to end on this machine, shortened, on generated files in the real formats (MNIST's and
Fashion-MNIST's idx files, CIFAR-10's binary records, CelebA's aligned JPEGs and partition file, random Inception
weights of the real shapes): that it runs,
its training seconds per 1,000 steps, and each full protocol's projected cost, training and evaluation apart.

    python benchmarks/preset_costs.py                     # every preset (about 15 minutes on 2 CPU cores)
    python benchmarks/preset_costs.py --presets mimicry-cifar10 --steps 3

Training seconds come from each run's device clock (results.csv's device_seconds at its last step, evaluation
excluded), averaged over the preset's trials; a sweep preset runs one sample per loss (--samples 1). The projection
multiplies by the protocol's steps and trials (a sweep's samples and its reruns); evaluation is counted apart as
the Inception images the protocol scores (generated at each evaluation point, and the reference once), at the
seconds per image measured here; a preset scored here at its own sample counts (PacGAN's: 2,500 points, 26,000
Stacked MNIST samples) is projected from its wall time besides training per evaluation point (an upper bound: that
time also holds the start-up and, on a cold cache, the classifier's training). Figures are for the machine it ran
on; a GPU's come from benchmarks/gpu.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test suite's makers of files in the real formats

from conftest import celeba_folder, cifar10_folder, make_random_inception_weights, mnist_folder  # noqa: E402

from ganzoo.budget import Budget  # noqa: E402
from ganzoo.presets import PRESETS  # noqa: E402

# steps each preset runs here: a few hundred where a step costs milliseconds, a few where it costs seconds
STEPS = {
    "pacgan-ring": 300,
    "pacgan-grid": 300,
    "pacgan-stacked-mnist": 100,
    "lucic-mnist": 100,
    "lucic-fashion-mnist": 100,
    "lucic-cifar10": 100,
    "lucic-celeba": 100,
    "mimicry-cifar10": 3,
}
# Inception images one full protocol scores: (generated per evaluation point, reference images once)
EVAL_IMAGES = {"lucic": (5_000, 5_000), "mimicry": (50_000, 50_000)}


def _data_dir(preset: str, root: Path) -> Path | None:
    dataset = PRESETS[preset].options["dataset"].split(":")[0]
    if dataset == "celeba64":
        return root / dataset if (root / dataset).exists() else celeba_folder(root / dataset, n=640)
    if dataset in ("mnist", "stacked-mnist", "fashion-mnist"):
        return mnist_folder(root / dataset, n=640)
    if dataset == "cifar10":
        if not (root / dataset).exists():
            cifar10_folder(root / dataset, n=128)
        return root / dataset
    return None


def _inception_seconds_per_image(weights: Path) -> float:
    import torch

    from ganzoo.metrics.features import FeatureSpace

    state = torch.load(weights, weights_only=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "w.pt"
        torch.save({k: v.float() for k, v in state.items()}, path)
        space = FeatureSpace(
            "inception", "inception-v3-compat", path, "random", "2048", "", logits_layer="logits_unbiased"
        )
        x = torch.rand(64, 3, 32, 32) * 2 - 1
        space.extract_with_logits(x[:8], torch.device("cpu"))  # built and warm
        t0 = time.perf_counter()
        space.extract_with_logits(x, torch.device("cpu"))
        return (time.perf_counter() - t0) / len(x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default=",".join(STEPS))
    ap.add_argument("--steps", type=int, default=None, help="steps per trial for every preset (default: STEPS)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        weights = make_random_inception_weights(root / "inception.pth")
        per_image = _inception_seconds_per_image(weights)
        for name in args.presets.split(","):
            pr = PRESETS[name]
            steps = args.steps or STEPS[name]
            out = root / f"out-{name}"
            cmd = [sys.executable, "-m", "ganzoo", "bench", "--preset", name, "--budget", f"{steps}steps"]
            cmd += ["--seeds", "1", "--out", str(out), "--cache-dir", str(root / "cache"), "--no-download"]
            data_dir = _data_dir(name, root)
            if data_dir is not None:
                cmd += ["--data-dir", str(data_dir)]
            if pr.options.get("features") == "inception":
                cmd += ["--inception-weights", str(weights), "--set", "fidelity.max_samples=64"]
            if pr.sweep:
                cmd += ["--samples", "1"]
            t0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
            wall = time.perf_counter() - t0
            if done.returncode != 0:
                rows.append((name, "FAILED: " + done.stderr.strip().splitlines()[-1], "", "", "", ""))
                continue
            df = pd.read_csv(out / "results.csv")
            last = df[df["metric"] == "status"].groupby("run_id")[["step", "device_seconds"]].max()
            per_1000 = float((last["device_seconds"] / last["step"]).mean() * 1000)
            trials = len(pr.options["seeds"]) * len(pr.options["variants"]) * len(pr.options.get("divergences") or [1])
            if pr.sweep:
                trials = pr.sweep[1] * len(pr.options["divergences"]) + pr.rerun_seeds * len(pr.options["divergences"])
            full_steps = Budget.parse(pr.options["budget"]).amount
            train_h = trials * full_steps * per_1000 / 1000 / 3600
            kind = next((k for k in EVAL_IMAGES if name.startswith(k)), None)
            points = full_steps // Budget.parse(pr.options["eval_every"]).amount + 1  # kept when shortened
            if kind:  # scored here on 64 images: projected from the seconds per Inception image
                generated, reference = EVAL_IMAGES[kind]
                eval_h = (trials * points * generated + reference) * per_image / 3600
            else:  # scored here as in the protocol: the wall time besides training, per evaluation point
                per_point = max(0.0, wall - float(last["device_seconds"].sum())) / (len(last) * points)
                eval_h = trials * points * per_point / 3600
            eval_text = f"{eval_h:,.1f}"
            rows.append(
                (name, f"{steps} x {len(last)}", f"{wall:.0f}", f"{per_1000:,.1f}", f"{train_h:,.1f}", eval_text)
            )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, no GPU; Inception "
        f"{per_image * 1000:.0f} ms per image here\n"
    )
    print(
        "| preset | steps x trials run here | wall s | training s per 1,000 steps | full protocol, training "
        "(CPU-hours) | full protocol, evaluation (CPU-hours) |\n|---|---|---|---|---|---|"
    )
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
