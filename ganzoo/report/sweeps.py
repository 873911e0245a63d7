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


def sweep_finals(df: pd.DataFrame, manifest: dict, metric: str) -> pd.DataFrame:
    """One row per finished sample of a sweep: its variant, divergence, sample id, values and final ``metric``
    (mean over its seeds)."""
    runs = manifest["config"]["sweep"]["runs"]
    scores = df[(df["metric"] == metric)]
    info = run_info(df)
    ok = info.index[info["status"] == "ok"]
    last = scores[scores["run_id"].isin(ok)].sort_values("step").groupby("run_id").last()
    rows = []
    for _, r in last.iterrows():
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


def sweep_best(df: pd.DataFrame, manifest: dict, metric: str | None = None) -> pd.DataFrame:
    """Per variant x divergence: how many samples finished, the best final ``metric`` and the values that reached
    it, and the median over samples (what a setting drawn at random gets)."""
    metric = metric or sweep_headline(manifest, df)
    way = direction(_directions(manifest), metric)
    finals = sweep_finals(df, manifest, metric)
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
                "samples": len(g),
                "best": best["value"],
                "median": g["value"].median(),
                "best sample": best["label"],
                "best settings": best["settings"],
            }
        )
    return pd.DataFrame(rows)


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
