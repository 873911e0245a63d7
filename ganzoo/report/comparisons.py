"""Two result sets compared per variant x metric: the change, its 95% Welch interval and t-test p-value."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ganzoo.report.tables import GROUP, _budget, _scores, metric_directions, per_run, run_info
from ganzoo.results import read_results


class NotComparable(ValueError):
    """Two result sets whose numbers would mean nothing side by side."""


def check_comparable(a: pd.DataFrame, b: pd.DataFrame, path_a: Path, path_b: Path) -> None:
    reasons = []
    if set(a["dataset"]) != set(b["dataset"]):
        reasons.append(
            f"datasets differ ({', '.join(sorted(set(a['dataset'])))} vs {', '.join(sorted(set(b['dataset'])))})"
        )
    for col in ("split", "features", "features_sha256", "reference_images", "generated_images", "resize"):
        sa, sb = (
            a.groupby("metric")[col].agg(lambda s: tuple(sorted(set(s.dropna().astype(str))))),
            b.groupby("metric")[col].agg(lambda s: tuple(sorted(set(s.dropna().astype(str))))),
        )
        for metric in sorted(set(sa.index) & set(sb.index)):
            if sa[metric] != sb[metric]:
                reasons.append(
                    f"{metric}: {col} differs ({', '.join(sa[metric]) or '-'} vs {', '.join(sb[metric]) or '-'})"
                )
    ba, bb = _budget(path_a), _budget(path_b)
    if ba and bb and ba != bb:
        reasons.append(f"budgets differ ({ba} vs {bb})")
    elif not (ba and bb) and a["step"].max() != b["step"].max():
        reasons.append(f"budgets differ (final steps {a['step'].max()} vs {b['step'].max()})")
    if reasons:
        raise NotComparable("cannot compare these result sets: " + "; ".join(reasons))


@dataclass
class Welch:
    diff: float
    low: float
    high: float
    p: float


def welch(x: np.ndarray, y: np.ndarray) -> Welch:
    """Difference of means y - x, its 95% Welch confidence interval and the Welch t-test p-value."""
    diff = float(np.mean(y) - np.mean(x))
    if len(x) < 2 or len(y) < 2:
        return Welch(diff, math.nan, math.nan, math.nan)
    vx, vy = np.var(x, ddof=1) / len(x), np.var(y, ddof=1) / len(y)
    se = math.sqrt(vx + vy)
    if se == 0:
        return Welch(diff, diff, diff, 1.0 if diff == 0 else 0.0)
    from scipy import stats  # here: only compare needs it, and it costs a table a quarter second

    dof = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = stats.t.ppf(0.975, dof) * se
    p = float(stats.ttest_ind(y, x, equal_var=False).pvalue)
    return Welch(diff, diff - half, diff + half, p)


def compare(path_a: Path, path_b: Path, metrics: list[str] | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Per dataset x variant x divergence x setting x metric present in both: B - A on final values.
    A cell is refused (``note`` says why, no statistics) unless every run of it in both sets finished:
    a failed or unfinished run has no final value, and dropping it would compare survivors."""
    a_all, b_all = read_results(path_a), read_results(path_b)
    a, b = _scores(a_all, metrics), _scores(b_all, metrics)
    check_comparable(a, b, Path(path_a), Path(path_b))
    directions = metric_directions([str(path_a), str(path_b)])
    b_all, b = (
        b_all.assign(run_id="b:" + b_all["run_id"]),
        b.assign(run_id="b:" + b["run_id"]),
    )  # run ids may repeat across sets
    runs = run_info(pd.concat([a_all, b_all]))  # settings labelled over both sets: the same setting, the same label
    fa, fb = per_run(a, "seconds", directions, runs), per_run(b, "seconds", directions, runs)
    cells = [*GROUP, "metric"]
    gb = dict(list(fb.groupby(cells)))
    rows = []
    for key, ga in fa.groupby(cells):
        if key not in gb:
            continue
        sb = gb[key]
        row = {
            **dict(zip(cells, key)),
            "n_a": int((ga["status"] == "ok").sum()),
            "n_b": int((sb["status"] == "ok").sum()),
        }
        unfinished = [
            f"{side}: {n} of {len(g)} runs {', '.join(sorted(set(g.loc[g['status'] != 'ok', 'status'])))}"
            for side, g in (("A", ga), ("B", sb))
            for n in [int((g["status"] != "ok").sum())]
            if n
        ]
        if unfinished:
            rows.append(
                {
                    **row,
                    "a_mean": np.nan,
                    "b_mean": np.nan,
                    "change": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                    "significant": False,
                    "note": "refused: " + "; ".join(unfinished) + " (not all reached the budget)",
                }
            )
            continue
        w = welch(ga["final"].to_numpy(float), sb["final"].to_numpy(float))
        rows.append(
            {
                **row,
                "a_mean": ga["final"].mean(),
                "b_mean": sb["final"].mean(),
                "change": w.diff,
                "ci_low": w.low,
                "ci_high": w.high,
                "p_value": w.p,
                "significant": bool(w.p < alpha) if not math.isnan(w.p) else False,
                "note": "" if len(ga) > 1 and len(sb) > 1 else "needs ≥2 seeds each",
            }
        )
    if not rows:
        raise NotComparable("cannot compare these result sets: they share no dataset x variant x divergence x metric")
    return pd.DataFrame(rows)
