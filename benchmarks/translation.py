"""Translation on digit domains, where the truth is known: CycleGAN (identity loss off, the default,
and at the paper's 0.5) and StarGAN under one budget, beside two fixed translators that bracket every
metric: the exact translation (the best any variant can do) and returning the source unchanged.

    python benchmarks/translation.py                                   # digits-domains, 600 steps, seeds 0 and 1
    python benchmarks/translation.py --budget 2000steps --seeds 3 --out /tmp/tr

Prints a markdown table of final values (mean ± std over seeds) with the machine it ran on; the
benches' full results stay in --out for `ganzoo table` / `ganzoo plot`.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import pandas as pd
import torch

from ganzoo import registry
from ganzoo.config import BenchConfig, default_cache_dir
from ganzoo.report import to_markdown
from ganzoo.runner import run_bench
from ganzoo.translation import translate_sources

METRICS = ["domain_accuracy", "content_accuracy", "truth_error", "cycle_error", "fid"]
# the one pair every run translates: CycleGAN's default plain <-> inverted, also among StarGAN's twelve
PAIR = [
    "content_accuracy/plain>inverted",
    "content_accuracy/inverted>plain",
    "truth_error/plain>inverted",
    "truth_error/inverted>plain",
    "fid/inverted",
    "fid/plain",
]


class Fixed:
    device = torch.device("cpu")

    def __init__(self, pairs, fn) -> None:
        self.pairs, self.fn = pairs, fn

    def translation_pairs(self):
        return self.pairs

    def translate(self, x, *, source, target):
        return self.fn(x, source, target)


def cpu_name() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def references(dataset: str, data_dir: Path | None) -> list[dict]:
    data = registry.datasets.get(dataset).load(name=dataset, data_dir=data_dir, split="auto", download=False)
    metric = registry.metrics.get("translation")(data=data, device=torch.device("cpu"), cache_dir=default_cache_dir())
    k = len(data.info.domains)
    rows = []
    for name, fn in [("exact translation", data.true_translation), ("source unchanged", lambda x, s, t: x)]:
        for label, pairs in [
            ("pair 0<->1", [(0, 1), (1, 0)]),
            ("all pairs", [(s, t) for s in range(k) for t in range(k) if s != t]),
        ]:
            values = metric.compute(
                translate_sources(Fixed(pairs, fn), data, 2000, torch.Generator().manual_seed(10_000))
            )
            rows.append({"run": f"{name} ({label})", **{m: f"{values[m]:.3g}" for m in METRICS + PAIR}, "ms/step": ""})
    return rows


def summarise(final: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    stats = final[final.metric.isin(metrics)].groupby(["run", "metric"]).value.agg(["mean", "std"]).reset_index()
    cells = stats.assign(
        cell=stats.apply(lambda r: f"{r['mean']:.3g} ± {0 if pd.isna(r['std']) else r['std']:.2g}", axis=1)
    )
    return cells.pivot(index="run", columns="metric", values="cell")[metrics].reset_index()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="digits-domains")
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--budget", default="600steps")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="ganzoo-translation-")))
    args = ap.parse_args()

    runs = {
        "default": BenchConfig(variants=["cyclegan", "stargan"]),
        "cyclegan identity 0.5": BenchConfig(variants=["cyclegan"], settings={"cyclegan": {"identity_weight": "0.5"}}),
    }
    frames = []
    for label, config in runs.items():
        config.dataset, config.data_dir, config.budget = args.dataset, args.data_dir, args.budget
        config.seeds, config.out, config.force = list(range(args.seeds)), args.out / label.replace(" ", "-"), True
        df = run_bench(config).frame
        final = df[df.step == df.groupby("run_id").step.transform("max")]
        final = final.assign(run=final.variant + (" (identity 0.5)" if "identity" in label else ""))
        frames.append(final[final.metric.isin(METRICS + PAIR)])
    final = pd.concat(frames)
    table = summarise(final, METRICS)
    speed = final.groupby("run").apply(lambda g: (g.device_seconds / g.step).mean(), include_groups=False)
    table["ms/step"] = table.run.map(lambda r: f"{1000 * speed[r]:.0f}")
    refs = pd.DataFrame(references(args.dataset, args.data_dir))
    table = pd.concat([table, refs[["run", *METRICS, "ms/step"]]], ignore_index=True)
    pair = pd.concat([summarise(final, PAIR), refs[refs.run.str.contains("pair 0")][["run", *PAIR]]], ignore_index=True)
    print(
        f"{args.dataset}, budget {args.budget} per run, seeds 0..{args.seeds - 1}, final values (mean ± std); "
        f"{cpu_name()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}"
    )
    print(to_markdown(table), end="")
    print("\nthe pair all runs translate (plain <-> inverted):")
    print(to_markdown(pair), end="")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
