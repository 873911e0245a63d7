"""Reproduce published tables: run presets (``ganzoo bench --preset ...``) and write ganzoo's rows beside
the paper's (``ganzoo table --published``), then run the built-in divergences with and without packing
on the same protocol and say which setting comes closest to PacGAN4.

The published protocol (400,000 iterations, 10 trials per variant) takes hours per trial on a laptop's
CPU; ``--budget`` and ``--seeds`` shorten it, and the output says what was used.

    python benchmarks/reproduce.py                                   # the published budget: a GPU box
    python benchmarks/reproduce.py --presets pacgan-ring --budget 40000steps --seeds 3 --evals 20 --metrics modes \
        --sweep-budget '' --out /tmp/repro                           # what benchmarks/README.md records
    python benchmarks/reproduce.py --curves /tmp/repro/pacgan-ring --presets pacgan-ring   # the picture again

Besides the tables it draws, per preset, each published metric against iterations for every seed, with the
published mean ± 2 s.e. as a band (``<out>/<preset>-curves.png``), so a reader sees whether the runs are
heading there, and prints the measured steps per second (device seconds of training, evaluation excluded).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from ganzoo import presets, report
from ganzoo.budget import Budget
from ganzoo.runner import run_bench

SWEEP = ["minimax", "nonsaturating", "least-squares", "hinge", "wasserstein-gp"]


def overrides(args: argparse.Namespace) -> dict:
    """The options this script gives beside each preset (Preset.config records them as overrides)."""
    given: dict = {}
    if args.budget:
        every = Budget.parse(args.budget).split(args.evals)
        unit = {"steps": "steps", "images": "img", "seconds": "s"}[every.measure]
        given.update(budget=args.budget, eval_every=f"{every.amount:g}{unit}")
    if args.metrics:
        given["metrics"] = args.metrics.split(",")
    if args.seeds:
        given["seeds"] = list(range(args.seeds))
    if args.variants:
        given["variants"] = args.variants.split(",")
    return {**given, "workers": args.workers, "threads": 1}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="pacgan-ring,pacgan-grid")
    ap.add_argument("--budget", help="per trial [default: the preset's, 400000steps]")
    ap.add_argument("--seeds", type=int, help="trials per variant [default: the preset's, 10]")
    ap.add_argument("--variants", default="gan,pacgan4", help="the preset's labels to run")
    ap.add_argument("--evals", type=int, default=1, help="evaluation points over --budget (the curves' resolution)")
    ap.add_argument(
        "--metrics", help="only these metrics (modes: the published ones of the 2-D presets, cheap to compute)"
    )
    ap.add_argument("--curves", type=Path, help="draw the curves picture of this kept bench folder and stop")
    ap.add_argument("--sweep-budget", default="5000steps", help="per trial of the divergence sweep ('' skips it)")
    ap.add_argument(
        "--sweep-presets", default="pacgan-ring,pacgan-grid", help="the presets whose protocol the sweep runs"
    )
    ap.add_argument("--sweep-seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, help="keep the bench folders here [default: a temporary folder]")
    args = ap.parse_args()
    if args.curves:
        print(
            curves(
                presets.get(args.presets.split(",")[0]),
                args.curves,
                args.curves.with_name(args.curves.name + "-curves.png"),
            )
        )
        return
    root = args.out or Path(tempfile.mkdtemp(prefix="ganzoo-reproduce-"))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{'CUDA ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'CPU only'}; folders under {root}\n"
    )
    for name in args.presets.split(","):
        preset = presets.get(name)
        t0 = time.perf_counter()
        out = root / name
        run_bench(preset.config(out=out, **overrides(args)))
        print(f"## {name} ({time.perf_counter() - t0:.0f} s)\n")
        print(report.to_markdown(report.published_display(report.published([out]))))
        print(f"\n{speed(out)}\n\npicture: {curves(preset, out, root / f'{name}-curves.png')}\n")
        if args.sweep_budget and name in args.sweep_presets.split(","):
            sweep(preset, root / f"{name}-divergences", args)


def speed(out: Path) -> str:
    """Steps per second of training per variant, from each finished run's device seconds (evaluation excluded)."""
    df = report.load_many([out])
    done = df[(df["metric"] == "status") & (df["value"] == 1)]
    rates = (done["step"] / done["device_seconds"]).groupby(done["variant"]).agg(["mean", "min", "max", "size"])
    return "steps/s (training, per trial): " + "; ".join(
        f"{v} {r['mean']:.1f} ({r['min']:.1f}-{r['max']:.1f}, {int(r['size'])} trials)" for v, r in rates.iterrows()
    )


def curves(preset: presets.Preset, out: Path, png: Path) -> Path:
    """Each published metric against iterations: one line per seed (a colour per variant), and the published
    mean ± 2 s.e. as a band of the variant's colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = report.load_many([out])
    metrics = list(dict.fromkeys(p.metric for p in preset.published))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), dpi=110, squeeze=False)
    colours = {v: f"C{i}" for i, v in enumerate(sorted(df["variant"].unique()))}
    for ax, metric in zip(axes[0], metrics):
        for (variant, seed), g in df[df["metric"] == metric].groupby(["variant", "seed"]):
            g = g.sort_values("step")
            ax.plot(
                g["step"],
                g["value"],
                color=colours[variant],
                lw=1,
                marker="o",
                ms=2,
                label=f"{variant}" if seed == df["seed"].min() else None,
            )
        for p in preset.published:
            if p.metric == metric and p.variant in colours and p.se is not None:
                ax.axhspan(p.mean - 2 * p.se, p.mean + 2 * p.se, color=colours[p.variant], alpha=0.18)
                ax.axhline(p.mean, color=colours[p.variant], ls="--", lw=0.8)
        ax.set_xlabel("iterations")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{preset.name}: every seed; band: published mean ± 2 s.e. ({preset.published[0].source})", fontsize=9)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return png


def sweep(preset: presets.Preset, out: Path, args: argparse.Namespace) -> None:
    """The built-in divergences x (no packing, packing 4), same networks and optimiser (a divergence's
    recipe sets what the protocol leaves open: WGAN-GP's 5 critic steps); ranked by distance to PacGAN4's
    published row in published standard errors, summed over its metrics."""
    t0 = time.perf_counter()
    run_bench(
        preset.config(
            out=out,
            variants=["gan", "pacgan4"],
            divergences=SWEEP,
            budget=args.sweep_budget,
            eval_every=args.sweep_budget,
            seeds=list(range(args.sweep_seeds)),
            workers=args.workers,
            threads=1,
        )
    )
    wide = sweep_table(preset, out)
    print(
        f"### {preset.name}: divergences with and without packing, {args.sweep_budget}, {args.sweep_seeds} seeds "
        f"({time.perf_counter() - t0:.0f} s)\n"
    )
    print(report.to_markdown(wide))
    best = wide.iloc[0]
    print(f"closest to PacGAN4's published row: {best['variant']} with {best['divergence']}\n")


def sweep_table(preset: presets.Preset, out: Path) -> pd.DataFrame:
    """One row per variant x divergence of a sweep folder: final mean ± std per metric and the summed
    distance to PacGAN4's published row, closest first (``python -c`` on a kept --out folder redraws it)."""
    t = report.table(report.load_many([out]), ["modes", "hq_share", "reverse_kl"])
    t = t[t["seeds"] > 0]  # settings with no finished run have nothing to rank
    target = {p.metric: p for p in preset.published if p.variant == "pacgan4"}
    t["gap_se"] = [abs(m - target[k].mean) / target[k].se for m, k in zip(t["final_mean"], t["metric"])]
    t["cell"] = [report.cell(m, sd, n) for m, sd, n in zip(t["final_mean"], t["final_std"], t["seeds"])]
    keys = ["variant", "divergence"]
    wide = t.pivot_table(index=keys, columns="metric", values="cell", aggfunc="first")
    wide["distance to PacGAN4 (s.e., summed)"] = (
        t.pivot_table(index=keys, columns="metric", values="gap_se").sum(axis=1, skipna=False).round(1)
    )
    # NaN: a metric undefined for the setting (reverse KL without one sample near a mode)
    wide = wide.sort_values("distance to PacGAN4 (s.e., summed)", na_position="last").reset_index()
    return wide[[*keys, "modes", "hq_share", "reverse_kl", "distance to PacGAN4 (s.e., summed)"]]


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
