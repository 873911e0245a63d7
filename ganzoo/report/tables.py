"""Tables of tidy results: final, best and equal-budget values per dataset x variant x divergence x setting,
mean ± std over seeds, and their text forms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ganzoo.config import Settings
from ganzoo.results import HIGHER, KEYS, LOWER, direction, read_manifest, read_results

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
    info = run_info(df)
    finished = scores[scores["run_id"].isin(info.index[info["status"] == "ok"])].sort_values("step")
    finals = finished.groupby(["run_id", "metric"]).tail(1).set_index(["run_id", "metric"])["value"]
    undefined = finals[finals.isna()]
    if len(undefined):
        metrics = sorted(undefined.index.get_level_values("metric").unique())
        out.append(
            f"{len(undefined)} finished run(s) end without a value of {', '.join(metrics)} (NaN: a reverse KL without one "
            "high-quality sample, say): means and n leave them out, and the tables count them"
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


def _budget(path: Path) -> str | None:
    manifest = read_manifest(path)
    return manifest.get("config", {}).get("budget") if manifest else None


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
    carried = [*KEYS, "seed", *(["features"] if "features" in scores else [])]
    out = scores.groupby(keys, sort=False)[carried].first()
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
    runs["undefined"] = (runs["status"] == "ok") & runs["final"].isna()  # finished, but no value (a NaN reverse KL)
    g = runs.groupby([*GROUP, "metric"])
    agg = g.agg(
        seeds=("final", "count"),
        undefined=("undefined", "sum"),
        runs=("run_id", "nunique"),
        final_mean=("final", "mean"),
        final_std=("final", "std"),
        best_mean=("best", "mean"),
        best_std=("best", "std"),
        equal_mean=("equal", "mean"),
        equal_std=("equal", "std"),
        **({"features": ("features", "first")} if "features" in runs else {}),
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


# metrics a table shows at the scale papers print them: KID x 10^3 in pretrained features (Inception, as Binkowski et
# al. and the tables since; CLIP, DINOv2, VGG-16), where it is of order 1e-3; in the dataset classifier's features it
# is of order 1 to 1e3 and shown as it is. The results CSVs, bench.json and --format csv keep the raw value.
SHOWN_SCALE = {"kid": 1e3}
UNSCALED_SPACES = frozenset({"classifier", ""})
_SUPERSCRIPT = {1: "", 2: "²", 3: "³", 6: "⁶"}


def shown_scale(metric: str, features: object = None) -> float:
    """The factor a shown table multiplies ``metric`` by, in feature space ``features`` (None or NaN: unknown, 1)."""
    if not isinstance(features, str) or features in UNSCALED_SPACES:
        return 1.0
    return SHOWN_SCALE.get(metric, 1.0)


def shown_name(metric: str, features: object = None) -> str:
    """A metric's label in a shown table, with its scale where it is shown scaled (``kid ×10³``)."""
    scale = shown_scale(metric, features)
    return metric if scale == 1 else f"{metric} ×10{_SUPERSCRIPT[int(round(np.log10(scale)))]}"


def _scales(t: pd.DataFrame) -> pd.Series:
    features = t["features"] if "features" in t else pd.Series(None, index=t.index)
    return pd.Series([shown_scale(m, f) for m, f in zip(t["metric"], features)], index=t.index)


def cell(mean: float, std: float, n: int) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.4g}" + ("" if pd.isna(std) else f" ± {std:.2g}")


def display(t: pd.DataFrame) -> pd.DataFrame:
    """The table as display strings, one row per dataset x variant x divergence x setting x metric; the
    best final value of each dataset and metric is marked *. ``runs``: finished of all, and what became
    of the others (``2/3 ok, 1 failed``); only finished runs contribute values."""
    d = t[[*KEYS, "setting", "metric"]].copy()
    d["_f"] = t["features"] if "features" in t else None
    k = _scales(t)
    t = t.assign(
        **{c: t[c] * k for c in ("final_mean", "final_std", "best_mean", "best_std", "equal_mean", "equal_std")}
    )
    d["runs"] = [
        (f"{n}/{m} ok" if not u else f"{n}/{m} with a value, {u} finished without one (NaN)")
        + (f", {rest}" if rest else "")
        for n, m, u, rest in zip(t.seeds, t.runs, t.undefined, t.not_ok)
    ]
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
    d["metric"] = [shown_name(m, f) for m, f in zip(d["metric"], d.pop("_f"))]
    return d if (d["setting"] != "").any() else d.drop(columns="setting")


def summary_wide(t: pd.DataFrame) -> pd.DataFrame:
    """A bench's closing view of :func:`table`: one row per variant x divergence (x setting), one column per
    metric, the final mean over finished runs (3 significant digits, * for the best), and the runs that did not
    finish: narrow enough for an 80-column terminal, where the long table is not."""
    t = t.copy()
    t["run"] = t["variant"] + "/" + t["divergence"] + np.where(t["setting"] != "", " " + t["setting"], "")
    t["shown"] = [
        ("-" if pd.isna(m) else f"{m * k:.3g}") + ("*" if b else "")
        for m, b, k in zip(t["final_mean"], t["is_best"], _scales(t))
    ]
    metrics = list(dict.fromkeys(t["metric"]))
    wide = t.pivot_table(index="run", columns="metric", values="shown", aggfunc="first", sort=False)[metrics].fillna(
        "-"
    )
    runs = t.drop_duplicates("run").set_index("run")
    wide.insert(0, "runs", [f"{int(runs.loc[r, 'seeds'])}/{int(runs.loc[r, 'runs'])}" for r in wide.index])
    wide = wide.reset_index().rename(columns={"run": "variant/divergence"})
    features = t.drop_duplicates("metric").set_index("metric")["features"] if "features" in t else {}
    wide.attrs["shown"] = {m: shown_name(m, features.get(m) if len(features) else None) for m in metrics}
    return wide


def paper_table(t: pd.DataFrame, metrics: list[str] | None = None) -> pd.DataFrame:
    """The table a paper prints, from :func:`table`: one row per variant x divergence (x setting), one column per
    metric (``metrics``, in order: a bench's summary), each cell the final mean ± its standard error over the
    finished runs with their number, ``*`` on the best per dataset and metric."""
    t = t.copy()
    if metrics:
        t = t[t["metric"].isin(metrics)]
    order = [m for m in (metrics or []) if m in set(t["metric"])] or list(dict.fromkeys(t["metric"]))
    t["row"] = t["variant"] + "/" + t["divergence"] + np.where(t["setting"] != "", " " + t["setting"], "")
    n = t["seeds"].astype(int)
    scale = _scales(t)
    t["final_mean"] = t["final_mean"] * scale
    se = t["final_std"] * scale / np.sqrt(n.clip(lower=1))
    t["cell"] = [
        "-"
        if pd.isna(m)
        else (f"{m:.3g}" if pd.isna(e) else f"{m:.3g} ± {e:.2g}")
        + (f" (n={k})" if not u else f" (n={k}; {u} NaN)")
        + (" *" if b else "")
        for m, e, k, u, b in zip(t["final_mean"], se, n, t["undefined"], t["is_best"])
    ]
    wide = t.pivot_table(index=["dataset", "row"], columns="metric", values="cell", aggfunc="first", sort=False)
    names = {m: shown_name(m, f) for m, f in zip(t["metric"], t["features"] if "features" in t else [None] * len(t))}
    wide = wide[order].fillna("-").rename(columns=names).reset_index().rename(columns={"row": "variant/divergence"})
    return wide if t["dataset"].nunique() > 1 else wide.drop(columns="dataset")


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
