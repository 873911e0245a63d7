"""Report-time views of tidy results: tables, comparisons between result sets, and curves.

Results stay long (one row per run x point x metric) on disk; every view here is built from them
with pandas at report time.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ganzoo.results import KEYS, MANIFEST, atomic_write_bytes, read_results

LOWER_IS_BETTER = {"fid", "kid", "class_kl", "mode_kl", "cycle_error", "truth_error"}


def lower_is_better(metric: str) -> bool:
    """``fid/<domain>`` ranks like ``fid``."""
    return metric.split("/", 1)[0] in LOWER_IS_BETTER
NOT_SCORES = ("loss_", "status", "divergence")
MEASURES = {"steps": "step", "images": "images_seen", "seconds": "device_seconds"}


def is_score(metric: str) -> bool:
    return not metric.startswith(NOT_SCORES)


def load_many(paths: list[Path]) -> pd.DataFrame:
    """Results from several folders or CSV files; run ids are made unique per source."""
    frames = []
    for i, p in enumerate(paths):
        df = read_results(p)
        if len(paths) > 1:
            df["run_id"] = f"{i}:" + df["run_id"]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _scores(df: pd.DataFrame, metrics: list[str] | None) -> pd.DataFrame:
    out = df[df["metric"].map(is_score)]
    if metrics:
        unknown = sorted(set(metrics) - set(out["metric"]))
        if unknown:
            raise ValueError(f"metric(s) {', '.join(unknown)} not in the results (there: {', '.join(sorted(set(out['metric'])))})")
        out = out[out["metric"].isin(metrics)]
    return out


def budget_measure(sources: list[str]) -> str:
    """The measure the benches were budgeted in, when their bench.json files agree; else seconds."""
    from ganzoo.budget import Budget

    measures = set()
    for src in sources:
        text = _budget(Path(src))
        measures.add(Budget.parse(text).measure if text else None)
    return measures.pop() if len(measures) == 1 and None not in measures else "seconds"


def per_run(df: pd.DataFrame, measure: str = "seconds") -> pd.DataFrame:
    """One row per run x metric: final value, best value over the run, value at the equal budget.

    The equal budget is the largest point of ``measure`` that every run in ``df`` reached; a run's value
    there is its last evaluation at or below it."""
    col = MEASURES[measure]
    reached = df.groupby("run_id")[col].max().min()
    rows = []
    for (run, metric), g in df.groupby(["run_id", "metric"], sort=False):
        g = g.sort_values("step")
        lower = lower_is_better(metric)
        at_equal = g[g[col] <= reached + 1e-9]
        rows.append({**g.iloc[0][[*KEYS, "seed"]].to_dict(), "run_id": run, "metric": metric,
                     "final": g["value"].iloc[-1], "best": g["value"].min() if lower else g["value"].max(),
                     "equal": at_equal["value"].iloc[-1] if len(at_equal) else np.nan})
    out = pd.DataFrame(rows)
    out.attrs["equal_budget"] = (measure, reached)
    return out


def table(df: pd.DataFrame, metrics: list[str] | None = None, measure: str = "auto") -> pd.DataFrame:
    """Per dataset x variant x divergence x metric: mean, std and seed count of final, best and
    equal-budget values, and whether the final mean is the best in its dataset."""
    if measure == "auto":
        measure = budget_measure(list(df["source"].unique()))
    runs = per_run(_scores(df, metrics), measure)
    agg = runs.groupby([*KEYS, "metric"]).agg(
        seeds=("seed", "nunique"),
        final_mean=("final", "mean"), final_std=("final", "std"),
        best_mean=("best", "mean"), best_std=("best", "std"),
        equal_mean=("equal", "mean"), equal_std=("equal", "std"),
    ).reset_index()
    agg["is_best"] = False
    for (_, metric), g in agg.groupby(["dataset", "metric"]):
        idx = g["final_mean"].idxmin() if lower_is_better(metric) else g["final_mean"].idxmax()
        if not pd.isna(idx):
            agg.loc[idx, "is_best"] = True
    agg.attrs["equal_budget"] = runs.attrs["equal_budget"]
    return agg


def cell(mean: float, std: float, n: int) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.4g}" + ("" if pd.isna(std) else f" ± {std:.2g}")


def display(t: pd.DataFrame) -> pd.DataFrame:
    """The table as display strings, one row per dataset x variant x divergence x metric; the best
    final value of each dataset and metric is marked *."""
    d = t[[*KEYS, "metric", "seeds"]].copy()
    d["final"] = [cell(m, s, n) + (" *" if b else "") for m, s, n, b in zip(t.final_mean, t.final_std, t.seeds, t.is_best)]
    d["best"] = [cell(m, s, n) for m, s, n in zip(t.best_mean, t.best_std, t.seeds)]
    d["equal budget"] = [cell(m, s, n) for m, s, n in zip(t.equal_mean, t.equal_std, t.seeds)]
    order = {m: i for i, m in enumerate(("fid", "kid", "precision", "recall", "density", "coverage"))}
    d["_o"] = d["metric"].map(lambda m: order.get(m, len(order)))
    return d.sort_values(["dataset", "_o", "metric", "variant", "divergence"]).drop(columns="_o").reset_index(drop=True)


def to_markdown(w: pd.DataFrame) -> str:
    head = "| " + " | ".join(w.columns) + " |\n|" + "---|" * len(w.columns) + "\n"
    return head + "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in w.itertuples(index=False))


def to_latex(w: pd.DataFrame) -> str:
    def esc(v: object) -> str:
        return str(v).replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("%", r"\%").replace("&", r"\&").replace("±", r"$\pm$")

    lines = [r"\begin{tabular}{" + "l" * len(w.columns) + "}", r"\toprule", " & ".join(map(esc, w.columns)) + r" \\", r"\midrule"]
    lines += [" & ".join(esc(v) for v in row) + r" \\" for row in w.itertuples(index=False)]
    return "\n".join(lines + [r"\bottomrule", r"\end{tabular}"]) + "\n"


# -- comparing two result sets -------------------------------------------------------------------

class NotComparable(ValueError):
    """Two result sets whose numbers would mean nothing side by side."""


def _budget(path: Path) -> str | None:
    manifest = (path if path.is_dir() else path.parent) / MANIFEST
    if manifest.is_file():
        return json.loads(manifest.read_text()).get("config", {}).get("budget")
    return None


def check_comparable(a: pd.DataFrame, b: pd.DataFrame, path_a: Path, path_b: Path) -> None:
    reasons = []
    if set(a["dataset"]) != set(b["dataset"]):
        reasons.append(f"datasets differ ({', '.join(sorted(set(a['dataset'])))} vs {', '.join(sorted(set(b['dataset'])))})")
    for col in ("split", "features", "features_sha256", "reference_images", "generated_images", "resize"):
        sa, sb = a.groupby("metric")[col].agg(lambda s: tuple(sorted(set(s.dropna().astype(str))))), b.groupby("metric")[col].agg(lambda s: tuple(sorted(set(s.dropna().astype(str)))))
        for metric in sorted(set(sa.index) & set(sb.index)):
            if sa[metric] != sb[metric]:
                reasons.append(f"{metric}: {col} differs ({', '.join(sa[metric]) or '-'} vs {', '.join(sb[metric]) or '-'})")
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
    dof = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = stats.t.ppf(0.975, dof) * se
    p = float(stats.ttest_ind(y, x, equal_var=False).pvalue)
    return Welch(diff, diff - half, diff + half, p)


def compare(path_a: Path, path_b: Path, metrics: list[str] | None = None, alpha: float = 0.05) -> pd.DataFrame:
    a, b = _scores(read_results(path_a), metrics), _scores(read_results(path_b), metrics)
    check_comparable(a, b, Path(path_a), Path(path_b))
    fa, fb = per_run(a), per_run(b)
    rows = []
    for key, ga in fa.groupby([*KEYS, "metric"]):
        gb = fb[(fb[[*KEYS, "metric"]] == pd.Series(dict(zip([*KEYS, "metric"], key)))).all(axis=1)]
        if gb.empty:
            continue
        w = welch(ga["final"].to_numpy(float), gb["final"].to_numpy(float))
        rows.append({**dict(zip([*KEYS, "metric"], key)), "a_mean": ga["final"].mean(), "b_mean": gb["final"].mean(),
                     "n_a": len(ga), "n_b": len(gb), "change": w.diff, "ci_low": w.low, "ci_high": w.high, "p_value": w.p,
                     "significant": bool(w.p < alpha) if not math.isnan(w.p) else False})
    if not rows:
        raise NotComparable("cannot compare these result sets: they share no dataset x variant x divergence x metric")
    return pd.DataFrame(rows)


# -- curves ---------------------------------------------------------------------------------------

def plot(df: pd.DataFrame, metric: str, out: Path) -> Path:
    """``metric`` against device seconds and images seen; one line per variant/divergence, seeds as a band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = _scores(df, [metric])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    for (dataset, variant, divergence), g in data.groupby(KEYS):
        curve = g.groupby("step").agg(x_s=("device_seconds", "mean"), x_i=("images_seen", "mean"),
                                      mean=("value", "mean"), std=("value", "std"), n=("value", "size"))
        label = f"{variant}/{divergence}" + (f" ({dataset})" if data["dataset"].nunique() > 1 else "") + f", n={curve['n'].max()}"
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
    fig.savefig(buf, format=Path(out).suffix.lstrip(".") or "png")
    plt.close(fig)
    atomic_write_bytes(Path(out), buf.getvalue())
    return Path(out)
