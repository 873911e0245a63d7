"""What PacGAN's released BatchNorm would change in ganzoo's pacgan-ring results: its eps (1e-4 against torch's
1e-5) and its running average of the standard deviation (against torch's of the variance). Both are read only at
evaluation (training normalises by the batch's own statistics, where eps 1e-4 against 1e-5 moves a unit-variance
activation by 4.5e-5 of itself), so the script trains GAN and PacGAN4 under the preset, then scores each final G's
samples (the same noise) three ways: as trained; with eps 1e-4; and with eps 1e-4 and the running variance replaced
by the square of the mean per-batch standard deviation over 100 noise batches of 100 at the final weights (the
steady state of the released code's running average of the std, which training would have tracked).

    python benchmarks/pacgan_bn.py                         # 2,000 steps, 3 seeds: about 3 minutes on 2 cores
    python benchmarks/pacgan_bn.py --budget 20000steps --seeds 3
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from ganzoo.evaluation import NOISE_SEED, generate
from ganzoo.metrics.modes import mode_stats
from ganzoo.presets import PRESETS
from ganzoo.runner import run_bench
from ganzoo.score_inputs import load_run_variant

N = 2500  # the preset's sample count for modes, high-quality share and reverse KL


def _scores(variant, info) -> dict[str, float]:
    x = generate(variant, N, torch.Generator().manual_seed(NOISE_SEED), None)
    return mode_stats(x, torch.tensor(info.modes), info.mode_std)


def _batch_stds(variant, norms: list[torch.nn.BatchNorm1d]) -> dict[int, torch.Tensor]:
    """Per BatchNorm, the mean over 100 noise batches of 100 of each channel's batch standard deviation (biased, as
    the released code's moments), running averages left as they are."""
    seen: dict[int, list[torch.Tensor]] = {id(m): [] for m in norms}

    def record(m: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        x, groups = inputs[0], getattr(m, "groups", 1)  # G once per noise batch: each batch's own statistics
        for part in x.reshape(groups, x.shape[0] // groups, *x.shape[1:]):
            seen[id(m)].append(part.var(0, unbiased=False).sqrt())

    hooks = [m.register_forward_pre_hook(record) for m in norms]
    kept = [(m, m.momentum) for m in norms]
    for m in norms:
        m.momentum = 0.0  # running statistics unchanged by these passes
    variant.train(True)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(100):
            variant.fake(variant.noise(100 * variant.packing.m, variant.z_dim, generator=gen))
    variant.train(False)
    for h in hooks:
        h.remove()
    for m, momentum in kept:
        m.momentum = momentum
    return {k: torch.stack(v).mean(0) for k, v in seen.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", default="2000steps")
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ring"
        config = PRESETS["pacgan-ring"].config(
            out=out, budget=args.budget, seeds=list(range(args.seeds)), variants=["gan", "pacgan4"]
        )
        run_bench(config)
        for folder in sorted((out / "runs").iterdir()):
            variant, info, cfg = load_run_variant(folder, torch.device("cpu"))
            norms = [m for m in variant.G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
            trained = _scores(variant, info)
            for m in norms:
                m.eps = 1e-4
            eps = _scores(variant, info)
            stds = _batch_stds(variant, norms)
            for m in norms:
                m.running_var.copy_(stds[id(m)] ** 2)
            both = _scores(variant, info)
            rows.append((cfg["variant"], cfg["seed"], trained, eps, both))
    print(f"pacgan-ring, {args.budget}, {args.seeds} seeds, {N} samples each, the same noise in every column\n")
    print("| variant | seed | metric | as trained | eps 1e-4 | eps 1e-4 and running std |\n|---|---|---|---|---|---|")
    for v, seed, a, b, c in rows:
        for k in ("modes", "hq_share", "reverse_kl"):
            print(f"| {v} | {seed} | {k} | {a[k]:.4g} | {b[k]:.4g} | {c[k]:.4g} |")


if __name__ == "__main__":
    main()
