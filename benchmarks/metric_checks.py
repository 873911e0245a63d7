"""Do the metrics measure what they claim? Each check sets ganzoo's protocol beside the flawed one it
replaced, on real data, and prints a markdown table for benchmarks/README.md.

1. Classifier-space FID and memorisation (digits): FID of 179 real digits the feature classifier trained
   on ("seen", mean of 10 draws) and of 179 real digits it never saw ("unseen"), against the reference.
   Old protocol: classifier trained on 90% of the data, the reference is all of it. ganzoo's: the
   classifier trains on one half; the reference (449 here) and the unseen images come from the other.
2. Stacked MNIST channel classifier: accuracy as the old protocol measured it (a 10% share of the
   channels of triples, which repeat the training digits) against its accuracy on digits it never saw;
   ganzoo's classifier, trained on the digits themselves and scored on held-out ones; and the modes
   uniform noise scores.
3. Mixture reverse KL (ring8): the old ``mode_kl`` (every sample) against PacGAN's (high-quality samples
   only) for real data, a generator collapsed onto 3 modes, and a structureless Gaussian blob.

    python benchmarks/metric_checks.py --mnist-dir ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch_fidelity.metric_fid import fid_features_to_statistics

from ganzoo import Data, Samples, registry
from ganzoo.metrics.classifier import _train, classifier_split, ensure_classifier, predict_logits
from ganzoo.metrics.features import FeatureSpace, classifier_space, real_features
from ganzoo.metrics.fidelity import fid_from_features
from ganzoo.metrics.modes import mode_stats


def load(name: str, data_dir: Path | None = None, argument: str | None = None) -> Data:
    extra = {} if argument is None else {"argument": argument}
    return registry.datasets.get(name).load(name=name, data_dir=data_dir, split="auto", download=False, **extra)


def fid_gap(cache: Path, draws: int = 10, n: int = 179) -> list[tuple[str, float, float]]:
    data, cpu = load("digits"), torch.device("cpu")
    rows = []
    # old protocol: 90% trains the classifier, the reference is drawn from all images
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    held = perm[: len(data) // 10]
    path, _ = ensure_classifier(data, cache / "old", cpu, (perm[len(held) :], held))
    old = FeatureSpace("classifier", "ganzoo-classifier", path, "old", "features", "none")
    new = classifier_space(data, cache / "new", cpu)
    new_held = new.reference_pool
    for label, space, ref_pool, seen_pool, unseen_pool in (
        # as ganzoo computed it before: all 1,797 digits as the reference, the 10% held out among them
        ("old: classifier on 90%, reference = all digits", old, torch.arange(len(data)), perm[len(held) :], held),
        (
            "ganzoo: classifier on half, reference from the other half",
            new,
            new_held[len(new_held) // 2 :],
            classifier_split(data)[0],
            new_held[: len(new_held) // 2],
        ),
    ):
        _, feats = real_features(space, data, len(ref_pool), cache, cpu, among=ref_pool)
        stats = fid_features_to_statistics(feats)
        result = {}
        for what, pool in (("seen", seen_pool), ("unseen", unseen_pool)):
            vals = []
            for s in range(draws if len(pool) > n else 1):
                pick = pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(s))[:n]]
                vals.append(fid_from_features(space.extract(data.x[pick], cpu), stats))
            result[what] = float(np.mean(vals))
        rows.append((label, result["seen"], result["unseen"]))
    return rows


def stacked(mnist_dir: Path, cache: Path) -> dict[str, float]:
    cpu = torch.device("cpu")
    data = load("stacked-mnist", mnist_dir, "20000")
    metric = registry.metrics.get("stacked")(data=data, device=cpu, cache_dir=cache)
    digits, train, held = metric.digits, metric.train_idx, metric.held_out
    # old protocol on the digits ganzoo trains on: 20,000 triples of them, their channels split 90/10
    pick = train[torch.randint(len(train), (20_000, 3), generator=torch.Generator().manual_seed(0))].reshape(-1)
    channels = Data(
        name="old-channels", info=digits.info, x=digits.x[pick], y=digits.y[pick], split="old", source="old protocol"
    )
    perm = torch.randperm(len(channels), generator=torch.Generator().manual_seed(0))
    test = perm[: len(perm) // 10]
    model_old, acc_old = _train(channels, cpu, perm[len(test) :], test)
    acc_old_unseen = float((predict_logits(model_old, digits.x[held], cpu).argmax(1) == digits.y[held]).float().mean())
    noise = torch.rand(26_000, 3, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    return {
        "old_reported": acc_old,
        "old_on_unseen": acc_old_unseen,
        "new_reported": metric.accuracy,
        "noise_modes": metric.compute(Samples(noise))["stacked_modes"],
    }


def reverse_kl_rows() -> list[tuple[str, float, float, float, float]]:
    data = load("ring8")
    centres, std = torch.tensor(data.info.modes), float(data.info.mode_std)
    gen = torch.Generator().manual_seed(0)
    cases = {
        "real samples": data.x[torch.randperm(len(data), generator=gen)[:2500]],
        "collapsed onto 3 of 8 modes": data.x[data.y < 3][:2500],
        "Gaussian blob N(0, 2²)": torch.randn(2500, 2, generator=gen) * 2,
    }
    rows = []
    for label, x in cases.items():
        out = mode_stats(x, centres, std)
        nearest = torch.cdist(x.double(), centres.double()).argmin(1)
        p = torch.bincount(nearest, minlength=len(centres)).double() / len(x)
        old = float((p[p > 0] * (p[p > 0] * len(centres)).log()).sum())
        rows.append((label, out["modes"], out["hq_share"], old, out["reverse_kl"]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
    args = ap.parse_args()
    machine = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    print(f"machine: {machine}\n")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        print("| protocol | FID of seen digits | FID of unseen digits |\n| --- | --- | --- |")
        for label, seen, unseen in fid_gap(cache):
            print(f"| {label} | {seen:.1f} | {unseen:.1f} |")
        if args.mnist_dir.is_dir():
            s = stacked(args.mnist_dir, cache)
            print(
                "\n| channel classifier | accuracy it reports | accuracy on digits it never saw |\n| --- | --- | --- |"
            )
            print(f"| old: 90/10 split of triple channels | {s['old_reported']:.4f} | {s['old_on_unseen']:.4f} |")
            print(
                f"| ganzoo: trained on half the digits, scored on the other half | {s['new_reported']:.4f} | {s['new_reported']:.4f} |"
            )
            print(f"\nuniform noise: {s['noise_modes']:.0f} stacked modes")
        print(
            "\n| ring8 samples | modes | hq share | old mode_kl (all samples) | reverse_kl (PacGAN: high-quality only) |"
            "\n| --- | --- | --- | --- | --- |"
        )
        for label, modes, hq, old, new in reverse_kl_rows():
            print(f"| {label} | {modes:.0f} | {hq:.3f} | {old:.3f} | {'nan' if math.isnan(new) else f'{new:.3f}'} |")


if __name__ == "__main__":
    main()
