"""Figures: a metric against the budget per variant (seeds as a band), and a sweep's best-of-k figure."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ganzoo.report.sweeps import _directions, best_of_k, sweep_finals, sweep_headline
from ganzoo.report.tables import _scores
from ganzoo.results import KEYS, LOWER, atomic_write_bytes, direction


def plot(df: pd.DataFrame, metric: str, out: Path) -> Path:
    """``metric`` against device seconds and images seen; one line per variant/divergence, seeds as a band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = _scores(df, [metric])
    data = data[np.isfinite(data["value"].to_numpy(dtype=float)) | data["value"].isna()]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for (dataset, variant, divergence), g in data.groupby(KEYS):
        curve = g.groupby("step").agg(
            x_s=("device_seconds", "mean"),
            x_i=("images_seen", "mean"),
            mean=("value", "mean"),
            std=("value", "std"),
            n=("value", "size"),
        )
        label = (
            f"{variant}/{divergence}"
            + (f" ({dataset})" if data["dataset"].nunique() > 1 else "")
            + f", n={curve['n'].max()}"
        )
        for ax, x in zip(axes, ("x_s", "x_i")):
            line = ax.plot(curve[x], curve["mean"], marker="o", ms=3, label=label)[0]
            if curve["n"].max() > 1:
                std = curve["std"].fillna(0)
                ax.fill_between(curve[x], curve["mean"] - std, curve["mean"] + std, color=line.get_color(), alpha=0.2)
    for ax, xlabel in zip(axes, ("device seconds (training)", "real images seen")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        if metric in {"fid", "kid"}:
            ax.set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{metric}: mean ± std over seeds")
    fig.tight_layout()
    buf = io.BytesIO()
    fmt = Path(out).suffix.lstrip(".") or "png"
    if fmt not in fig.canvas.get_supported_filetypes():
        plt.close(fig)
        raise ValueError(
            f"--out {str(out)!r}: unknown picture format {fmt!r} (known: {', '.join(sorted(fig.canvas.get_supported_filetypes()))})"
        )
    fig.savefig(buf, format=fmt)
    plt.close(fig)
    try:
        atomic_write_bytes(Path(out), buf.getvalue())
    except OSError as exc:
        raise ValueError(f"--out {str(out)!r} cannot be written: {exc.strerror or exc}") from None
    return Path(out)


def plot_sweep(df: pd.DataFrame, manifest: dict, out: Path | None = None, metric: str | None = None) -> bytes:
    """Lucic et al.'s figure: the best final ``metric`` among k samples as k grows (mean and 95% band over
    subsets of size k drawn without replacement), one line per variant x divergence; beside it a box plot of
    the final values over the samples. PNG bytes (also written to ``out``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = metric or sweep_headline(manifest, df)
    lower = direction(_directions(manifest), metric) == LOWER
    finals = sweep_finals(df, manifest, metric)
    fig, (ax, box) = plt.subplots(1, 2, figsize=(11, 4), dpi=90)
    groups = list(finals.groupby(["variant", "divergence"]))
    for (variant, divergence), g in groups:
        curve = best_of_k(list(g["value"]), lower_is_better=lower)
        if not curve:
            continue
        k, mean, lo, hi = (np.array(c) for c in zip(*curve))
        line = ax.plot(k, mean, marker="o", ms=3, label=f"{variant}/{divergence} ({len(g)} samples)")[0]
        ax.fill_between(k, lo, hi, color=line.get_color(), alpha=0.2)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("number of sampled settings k")
    ax.set_ylabel(f"{'min' if lower else 'max'} {metric} among k (mean, 95% band)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if groups:
        box.boxplot([g["value"].dropna().to_numpy() for _, g in groups])
        box.set_xticks(
            range(1, len(groups) + 1), [f"{v}/{d}" for (v, d), _ in groups]
        )  # boxplot's own label keyword moved
    box.set_ylabel(f"final {metric} per sample")
    box.tick_params(axis="x", labelsize=8, rotation=20)
    box.grid(alpha=0.3)
    if metric in ("fid", "kid") and (finals["value"] > 0).all():
        ax.set_yscale("log")
        box.set_yscale("log")
    sweep = manifest["config"]["sweep"]
    fig.suptitle(
        f"sweep: {sweep['space']}, {sweep['samples']} samples per variant x divergence (sampler {sweep['sampler']}, seed {sweep['seed']})",
        fontsize=10,
    )
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    if out is not None:
        atomic_write_bytes(Path(out), buf.getvalue())
    return buf.getvalue()
