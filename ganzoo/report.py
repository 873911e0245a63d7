"""Report-time views of tidy results: tables, comparisons between result sets, and curves.

Results stay long (one row per run x point x metric) on disk; every view here is built from them
with pandas at report time.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ganzoo.config import Settings
from ganzoo.results import HIGHER, KEYS, LOWER, direction, atomic_write_bytes, read_manifest, read_results

NOT_SCORES = ("loss_", "status", "divergence", "error_")
MEASURES = {"steps": "step", "images": "images_seen", "seconds": "device_seconds"}
GROUP = [*KEYS, "setting"]  # one table row per dataset x variant x divergence x setting x metric


def is_score(metric: str) -> bool:
    return not metric.startswith(NOT_SCORES)


def metric_directions(sources: list[str] | None = None) -> dict[str, str]:
    """Which way is better for each metric name: what the installed metric plugins declare, updated by
    what each bench recorded in its bench.json (so a bench's own metrics rank even where the plugin that
    computed them is not installed). Undeclared metrics are never ranked."""
    from ganzoo import registry

    out: dict[str, str] = {}
    for name in registry.metrics.names():  # read from each plugin's source where it can be: no torch for a table
        declared = registry.metrics.declared(name, "directions")
        if isinstance(declared, dict):
            out.update({k: v for k, v in declared.items() if v in (LOWER, HIGHER)})
    for src in sources or []:
        if not src:  # rows that came from memory, not from a file
            continue
        manifest = read_manifest(Path(src))
        if manifest:
            out.update({k: v for k, v in manifest.get("metric_directions", {}).items() if v in (LOWER, HIGHER)})
    return out


def load_many(paths: list[Path]) -> pd.DataFrame:
    """Results from several folders or CSV files; run ids are made unique per source."""
    frames = []
    for i, p in enumerate(paths):
        df = read_results(p)
        if len(paths) > 1:
            df["run_id"] = f"{i}:" + df["run_id"]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def notes(df: pd.DataFrame) -> list[str]:
    """What a reader of a table or plot of ``df`` must be told: infinite scores (a histogram KL where the
    generated classes include one the reference lacks), and results of several datasets."""
    out: list[str] = []
    if df.empty:
        return out
    scores = df[df["metric"].map(is_score).astype(bool)]
    infinite = scores[np.isinf(scores["value"].to_numpy(dtype=float))]
    if len(infinite):
        first = infinite.iloc[0]
        out.append(
            f"{len(infinite)} score(s) are infinite ({', '.join(sorted(infinite['metric'].unique()))}; first: run "
            f"{first['run_id']} at step {first['step']}): a mean over one is infinite, and a plot leaves them out"
        )
    datasets = sorted(df["dataset"].unique())
    if len(datasets) > 1:
        out.append(
            f"these results hold {len(datasets)} datasets ({', '.join(datasets)}): each is ranked on its own, but the "
            "equal-budget point is the largest one every run of all of them reached"
        )
    return out


def unfinished(paths: list[Path]) -> list[str]:
    """Each results folder whose bench did not finish, with its status, for a comparison to say so."""
    out = []
    for path in paths:
        manifest = read_manifest(Path(path)) if Path(path).is_dir() else None
        if manifest is not None and manifest.get("status") != "finished":
            out.append(
                f"{path} is a bench that has not finished (bench.json: {manifest.get('status')}): only cells where "
                "every run finished in both are compared"
            )
    return out


def _scores(df: pd.DataFrame, metrics: list[str] | None) -> pd.DataFrame:
    out = df[df["metric"].map(is_score)]
    if metrics:
        unknown = sorted(set(metrics) - set(out["metric"]))
        if unknown:
            raise ValueError(
                f"metric(s) {', '.join(unknown)} not in the results (there: {', '.join(sorted(set(out['metric'])))})"
            )
        out = out[out["metric"].isin(metrics)]
    return out


def budget_measure(sources: list[str], df: pd.DataFrame | None = None) -> str:
    """The measure the benches were budgeted in, when they agree (the ``budget`` column, else each
    bench.json); else seconds."""
    from ganzoo.budget import Budget

    texts = set(df["budget"].replace("", np.nan).dropna()) if df is not None and "budget" in df else set()
    if not texts:
        texts = {_budget(Path(src)) for src in sources if src}
    if None in texts or not texts:
        return "seconds"
    measures = {Budget.parse(t).measure for t in texts}
    return measures.pop() if len(measures) == 1 else "seconds"


def run_info(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its status (``ok``, ``failed``, ``interrupted`` or ``unfinished``, when it has
    no status row) and the settings it ran with, as one label: the budget, the feature space and the
    user's overrides, each only where it differs between the runs of ``df``."""
    runs = df.groupby("run_id", sort=False).agg(budget=("budget", "first"), settings=("settings", "first"))
    feats = df[df["features"].fillna("").astype(str) != ""].groupby("run_id")["features"].first()
    runs["features"] = feats.reindex(runs.index).fillna("")
    status = df[df["metric"] == "status"].groupby("run_id").agg(value=("value", "last"), detail=("detail", "last"))
    runs["status"] = "unfinished"
    known = status.reindex(runs.index)
    runs.loc[known["value"] == 1, "status"] = "ok"
    failed = known["value"].notna() & (known["value"] != 1)
    runs.loc[failed, "status"] = np.where(
        known.loc[failed, "detail"].astype(str).str.startswith("interrupted"), "interrupted", "failed"
    )
    label = pd.Series("", index=runs.index)
    for col in ("budget", "features"):
        if runs[col].nunique() > 1:
            label = label.str.cat(col + "=" + runs[col].astype(str), sep=" ").str.strip()
    if (runs["settings"] != "").any():
        label = label.str.cat(_differing(runs["settings"]), sep=" ").str.strip()
    runs["setting"] = label
    return runs


def _differing(settings: pd.Series) -> pd.Series:
    """Each run's ``key=value;...`` settings, keeping only the keys whose value is not the same in every
    run (a preset sets a dozen values in every run; its runs differ in ``pack`` alone)."""
    parsed = [Settings.read_column(text) for text in settings]
    keys = sorted({k for d in parsed for k in d})
    varying = [k for k in keys if len({d.get(k) for d in parsed}) > 1]
    return pd.Series([" ".join(f"{k}={d[k]}" for k in varying if k in d) for d in parsed], index=settings.index)


def per_run(
    df: pd.DataFrame,
    measure: str = "seconds",
    directions: dict[str, str] | None = None,
    runs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per run x metric: final value, best value over the run (after step 0: the untrained
    generator is not a result) and the value at the equal budget, for finished runs only; failed,
    interrupted and unfinished runs keep their row with NaN values and their status.

    The equal budget is the largest point of ``measure`` that every finished run in ``df`` reached; a
    run's value there is its last evaluation at or below it."""
    directions = metric_directions() if directions is None else directions
    runs = run_info(df) if runs is None else runs
    col = MEASURES[measure]
    scores = df[df["metric"].map(is_score)].sort_values(["run_id", "metric", "step"], kind="stable")
    ok = runs.index[runs["status"] == "ok"]
    done = scores[scores["run_id"].isin(ok)]
    reached = done.groupby("run_id")[col].max().min() if len(done) else np.nan
    keys = ["run_id", "metric"]
    out = scores.groupby(keys, sort=False)[[*KEYS, "seed"]].first()
    out["final"] = done.groupby(keys, sort=False).tail(1).set_index(keys)["value"].reindex(out.index)
    later = done[done["step"] > 0]
    lo, hi = later.groupby(keys)["value"].min(), later.groupby(keys)["value"].max()
    way = pd.Series([direction(directions, m) for m in out.index.get_level_values("metric")], index=out.index)
    out["best"] = np.where(way == LOWER, lo.reindex(out.index), np.where(way == HIGHER, hi.reindex(out.index), np.nan))
    within = done[done[col] <= reached + 1e-9]  # empty when no run finished (reached is NaN)
    out["equal"] = within.groupby(keys, sort=False).tail(1).set_index(keys)["value"].reindex(out.index)
    out = out.reset_index()
    out["status"] = out["run_id"].map(runs["status"])
    out["setting"] = out["run_id"].map(runs["setting"])
    out.attrs["equal_budget"] = (measure, reached)
    return out


def table(df: pd.DataFrame, metrics: list[str] | None = None, measure: str = "auto") -> pd.DataFrame:
    """Per dataset x variant x divergence x setting x metric: finished and total runs, mean, std of final,
    best and equal-budget values over the finished runs, and whether the final mean is the best of its
    dataset and metric (by the metric's declared direction; ties are all best)."""
    sources = list(df["source"].unique()) if "source" in df else []
    if measure == "auto":
        measure = budget_measure(sources, df)
    directions = metric_directions(sources)
    scores = _scores(df, metrics)
    if scores.empty:
        info = run_info(df)
        statuses = ", ".join(f"{n} {k}" for k, n in info["status"].value_counts().sort_index().items()) or "none"
        raise ValueError(
            f"the results hold no scores to tabulate, only status and loss rows ({len(info)} runs: {statuses}); "
            "no metric could score the data, or no run reached its first evaluation"
        )
    runs = per_run(scores, measure, directions, run_info(df))
    g = runs.groupby([*GROUP, "metric"])
    agg = g.agg(
        seeds=("final", "count"),
        runs=("run_id", "nunique"),
        final_mean=("final", "mean"),
        final_std=("final", "std"),
        best_mean=("best", "mean"),
        best_std=("best", "std"),
        equal_mean=("equal", "mean"),
        equal_std=("equal", "std"),
    ).reset_index()
    status = (
        runs.drop_duplicates("run_id")
        .groupby(GROUP)["status"]
        .agg(lambda s: ", ".join(f"{n} {k}" for k, n in s[s != "ok"].value_counts().sort_index().items()))
    )
    agg["not_ok"] = [status.get(tuple(r), "") for r in agg[GROUP].itertuples(index=False)]
    agg["is_best"] = False
    for (_, metric), grp in agg.groupby(["dataset", "metric"]):
        way = direction(directions, metric)
        if way is None or grp["final_mean"].isna().all():
            continue
        top = grp["final_mean"].min() if way == LOWER else grp["final_mean"].max()
        agg.loc[grp.index[grp["final_mean"] == top], "is_best"] = True  # ties share the star
    agg.attrs["equal_budget"] = runs.attrs["equal_budget"]
    return agg


def cell(mean: float, std: float, n: int) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.4g}" + ("" if pd.isna(std) else f" ± {std:.2g}")


def display(t: pd.DataFrame) -> pd.DataFrame:
    """The table as display strings, one row per dataset x variant x divergence x setting x metric; the
    best final value of each dataset and metric is marked *. ``runs``: finished of all, and what became
    of the others (``2/3 ok, 1 failed``); only finished runs contribute values."""
    d = t[[*KEYS, "setting", "metric"]].copy()
    d["runs"] = [f"{n}/{m} ok" + (f", {rest}" if rest else "") for n, m, rest in zip(t.seeds, t.runs, t.not_ok)]
    d["final"] = [
        cell(m, s, n) + (" *" if b else "") for m, s, n, b in zip(t.final_mean, t.final_std, t.seeds, t.is_best)
    ]
    d["best"] = [cell(m, s, n) for m, s, n in zip(t.best_mean, t.best_std, t.seeds)]
    d["equal budget"] = [cell(m, s, n) for m, s, n in zip(t.equal_mean, t.equal_std, t.seeds)]
    order = {m: i for i, m in enumerate(("fid", "kid", "precision", "recall", "density", "coverage"))}
    d["_o"] = d["metric"].map(lambda m: order.get(m, len(order)))
    d = (
        d.sort_values(["dataset", "_o", "metric", "variant", "divergence", "setting"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )
    return d if (d["setting"] != "").any() else d.drop(columns="setting")


def summary_wide(t: pd.DataFrame) -> pd.DataFrame:
    """A bench's closing view of :func:`table`: one row per variant x divergence (x setting), one column per
    metric, the final mean over finished runs (3 significant digits, * for the best), and the runs that did not
    finish: narrow enough for an 80-column terminal, where the long table is not."""
    t = t.copy()
    t["run"] = t["variant"] + "/" + t["divergence"] + np.where(t["setting"] != "", " " + t["setting"], "")
    t["shown"] = [
        ("-" if pd.isna(m) else f"{m:.3g}") + ("*" if b else "") for m, b in zip(t["final_mean"], t["is_best"])
    ]
    metrics = list(dict.fromkeys(t["metric"]))
    wide = t.pivot_table(index="run", columns="metric", values="shown", aggfunc="first", sort=False)[metrics].fillna(
        "-"
    )
    runs = t.drop_duplicates("run").set_index("run")
    wide.insert(0, "runs", [f"{int(runs.loc[r, 'seeds'])}/{int(runs.loc[r, 'runs'])}" for r in wide.index])
    return wide.reset_index().rename(columns={"run": "variant/divergence"})


def published(paths: list[Path]) -> pd.DataFrame:
    """ganzoo's rows beside the paper's, in the same columns, for benches started from a preset (whose
    bench.json keeps the published numbers and the user's overrides of the protocol).

    One row per dataset x variant x metric x source: ganzoo's final values (mean and standard error over
    the finished seeds, as the papers report) and each published row, which says whether the two means
    differ by at most 2 combined standard errors, and by how many (see :func:`within_2se`)."""
    records, notes = [], []
    for path in paths:
        manifest = read_manifest(Path(path))
        rec = (manifest or {}).get("preset")
        if not rec:
            raise ValueError(
                f"{path} was not run from a preset (ganzoo bench --preset NAME): it holds no published numbers to set beside"
            )
        records += rec["published"]
        notes.append(f"{rec['name']}: " + (", ".join(rec["overrides"]) if rec["overrides"] else "as published"))
    df = load_many(list(paths))
    pub = pd.DataFrame(records).drop_duplicates(["dataset", "variant", "metric", "source"])
    t = table(df, sorted(set(pub["metric"]) & set(df["metric"])) or None)
    t = t[t["metric"].isin(pub["metric"])]
    mine = pd.DataFrame(
        {
            "dataset": t["dataset"],
            "variant": t["variant"],
            "metric": t["metric"],
            "source": "ganzoo",
            "protocol": "; ".join(notes),
            "runs": t["seeds"].astype(int),
            "mean": t["final_mean"],
            "se": t["final_std"] / np.sqrt(t["seeds"].clip(lower=1)),
            "within_2se": "",
            "distance_se": np.nan,
        }
    )
    rows = []
    for _, r in pub.iterrows():
        ours = mine[(mine.dataset == r.dataset) & (mine.variant == r.variant) & (mine.metric == r.metric)]
        mean, se = (ours["mean"].iloc[0], ours["se"].iloc[0]) if len(ours) else (float("nan"), float("nan"))
        verdict, distance = within_2se(mean, se, r["mean"], r.se)
        rows.append(
            {
                "dataset": r.dataset,
                "variant": r.variant,
                "metric": r.metric,
                "source": r.source,
                "protocol": "the paper's",
                "runs": pd.NA,
                "mean": r["mean"],
                "se": r.se,
                "within_2se": verdict,
                "distance_se": distance,
            }
        )
    out = pd.concat([mine, pd.DataFrame(rows)], ignore_index=True)
    out["_mine"] = out["source"] == "ganzoo"
    out = out.sort_values(["dataset", "metric", "variant", "_mine"], ascending=[True, True, True, False], kind="stable")
    return out.drop(columns="_mine").reset_index(drop=True)


def within_2se(ours: float, ours_se: float, mean: float, se: float | None) -> tuple[str, float]:
    """Whether ganzoo's mean and a published mean differ by at most 2 standard errors of their difference,
    sqrt(se_ours^2 + se_published^2), both being estimates with their own noise; and the difference in
    those units. (A test against the published s.e. alone reads "no" for about 16% of true matches when
    ganzoo's runs are as noisy as the paper's.) ``no s.e.`` when the paper gives none, ``one run`` when
    ganzoo's s.e. is unknown, ``no value`` when ganzoo has none (no finished run, or a metric undefined for
    it: reverse KL without one high-quality sample); the distance is then NaN."""
    if se is None or pd.isna(se):
        return "no s.e.", float("nan")
    if pd.isna(ours):
        return "no value", float("nan")
    if pd.isna(ours_se):
        return "one run", float("nan")
    combined = float(np.hypot(ours_se, se))
    gap = abs(ours - mean)
    distance = gap / combined if combined > 0 else (0.0 if gap == 0 else float("inf"))
    return ("yes" if distance <= 2 * (1 + 1e-9) else "no"), distance


def published_display(t: pd.DataFrame) -> pd.DataFrame:
    d = t[["dataset", "variant", "metric", "source", "protocol"]].copy()
    d["runs"] = ["" if pd.isna(n) else str(n) for n in t["runs"]]
    d["mean ± s.e."] = [cell(m, s, 0) for m, s in zip(t["mean"], t["se"])]
    d["within 2 combined s.e."] = t["within_2se"]
    d["distance (combined s.e.)"] = ["" if pd.isna(x) else f"{x:.2f}" for x in t["distance_se"]]
    return d


def to_markdown(w: pd.DataFrame) -> str:
    head = "| " + " | ".join(w.columns) + " |\n|" + "---|" * len(w.columns) + "\n"
    return head + "".join("| " + " | ".join(str(v) for v in row) + " |\n" for row in w.itertuples(index=False))


def to_latex(w: pd.DataFrame) -> str:
    def esc(v: object) -> str:
        return (
            str(v)
            .replace("\\", r"\textbackslash{}")
            .replace("_", r"\_")
            .replace("%", r"\%")
            .replace("&", r"\&")
            .replace("±", r"$\pm$")
        )

    lines = [
        r"\begin{tabular}{" + "l" * len(w.columns) + "}",
        r"\toprule",
        " & ".join(map(esc, w.columns)) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(esc(v) for v in row) + r" \\" for row in w.itertuples(index=False)]
    return "\n".join(lines + [r"\bottomrule", r"\end{tabular}"]) + "\n"


# -- comparing two result sets -------------------------------------------------------------------


class NotComparable(ValueError):
    """Two result sets whose numbers would mean nothing side by side."""


def _budget(path: Path) -> str | None:
    manifest = read_manifest(path)
    return manifest.get("config", {}).get("budget") if manifest else None


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


# -- curves ---------------------------------------------------------------------------------------


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


# -- sweeps (ganzoo.search) -------------------------------------------------------------------------


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
    for run_id, r in last.iterrows():
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
