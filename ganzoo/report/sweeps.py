"""A sweep's results read back: each variant x divergence's best sampled setting, and the best among k draws."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ganzoo.config import Settings
from ganzoo.report.tables import is_score, metric_directions, run_info
from ganzoo.results import LOWER, direction


def sweep_record(manifest: dict | None) -> dict | None:
    """The sweep a bench.json records (its space, seed and every sample), or None when the bench is no sweep."""
    record = ((manifest or {}).get("config") or {}).get("sweep") or {}
    return record if "runs" in record else None


def _directions(manifest: dict) -> dict[str, str]:
    """Which way is better for each metric: the installed plugins' word, then the bench's own record."""
    return {**metric_directions(), **manifest.get("metric_directions", {})}


SELECTIONS = {
    "best": "best over its evaluation points",  # compare_gan's: a sample is judged by its best checkpoint
    "final": "final value",
}


def sweep_finals(df: pd.DataFrame, manifest: dict, metric: str, select: str = "best") -> pd.DataFrame:
    """One row per finished sample of a sweep: its variant, divergence, sample id, values and ``metric`` (mean over
    its seeds), each run's value taken as ``select`` says: ``best``, its best over the evaluation points after step 0
    (Lucic et al.'s selection, as compare_gan ran it: the best FID over all checkpoints), or ``final``."""
    if select not in SELECTIONS:
        raise ValueError(f"select must be one of {', '.join(SELECTIONS)}, got {select!r}")
    runs = manifest["config"]["sweep"]["runs"]
    scores = df[(df["metric"] == metric)]
    info = run_info(df)
    ok = info.index[info["status"] == "ok"]
    scores = scores[scores["run_id"].isin(ok)].sort_values("step")
    if select == "final":
        per_run = scores.groupby("run_id").last()
    else:
        trained = scores[scores["step"] > 0]
        way = direction(_directions(manifest), metric)
        pick = (
            trained.groupby("run_id")["value"].idxmin() if way == LOWER else trained.groupby("run_id")["value"].idxmax()
        )
        per_run = trained.loc[pick.dropna()].set_index("run_id")
    rows = []
    for _, r in per_run.iterrows():
        label = r["variant"]
        if label not in runs:
            continue
        rec = runs[label]
        rows.append(
            {
                "variant": rec["variant"],
                "divergence": rec["divergence"],
                "sample": rec["sample"],
                "label": label,
                "value": r["value"],
                "settings": Settings.column(rec["values"]),
            }
        )
    out = pd.DataFrame(rows, columns=["variant", "divergence", "sample", "label", "value", "settings"])
    return out.groupby(["variant", "divergence", "sample", "label", "settings"], as_index=False)["value"].mean()


def sweep_headline(manifest: dict, df: pd.DataFrame) -> str:
    """The metric a sweep is judged by: the first summary metric with a declared direction that the results hold."""
    directions = _directions(manifest)
    for m in [*manifest.get("summary_metrics", []), *sorted(set(df["metric"]))]:
        if m in set(df["metric"]) and direction(directions, m) is not None and is_score(m):
            return m
    raise ValueError("the sweep's results hold no score with a declared direction to choose its best setting by")


def sweep_best(df: pd.DataFrame, manifest: dict, metric: str | None = None, select: str = "best") -> pd.DataFrame:
    """Per variant x divergence: how many samples finished, the best ``metric`` (each sample's as ``select`` takes
    it: see :func:`sweep_finals`) and the values that reached it, and the median over samples (what a setting drawn
    at random gets). The ``select`` column says which value was compared."""
    metric = metric or sweep_headline(manifest, df)
    way = direction(_directions(manifest), metric)
    finals = sweep_finals(df, manifest, metric, select)
    rows = []
    for (variant, divergence), g in finals.groupby(["variant", "divergence"]):
        g = g.dropna(subset=["value"])
        if g.empty:
            continue
        best = g.loc[g["value"].idxmin() if way == LOWER else g["value"].idxmax()]
        rows.append(
            {
                "variant": variant,
                "divergence": divergence,
                "metric": metric,
                "select": SELECTIONS[select],
                "samples": len(g),
                "best": best["value"],
                "median": g["value"].median(),
                "best sample": best["label"],
                "best settings": best["settings"],
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "variant",
            "divergence",
            "metric",
            "select",
            "samples",
            "best",
            "median",
            "best sample",
            "best settings",
        ],
    )


def best_of_k(
    scores: list[float], ks: list[int] | None = None, rounds: int = 1000, seed: int = 0, lower_is_better: bool = True
) -> list[tuple[int, float, float, float]]:
    """Lucic et al.'s figure: for each k, the best score among k of the samples, over ``rounds`` subsets of size k
    drawn without replacement; (k, mean, 2.5th and 97.5th percentile)."""
    values = np.asarray([s for s in scores if s == s and math.isfinite(s)], dtype=float)
    if len(values) == 0:
        return []
    rng = np.random.default_rng(seed)
    out = []
    for k in ks or list(range(1, len(values) + 1)):
        k = min(k, len(values))
        picks = np.array([rng.choice(values, size=k, replace=False) for _ in range(rounds)])
        best = picks.min(axis=1) if lower_is_better else picks.max(axis=1)
        out.append((k, float(best.mean()), float(np.percentile(best, 2.5)), float(np.percentile(best, 97.5))))
    return out
