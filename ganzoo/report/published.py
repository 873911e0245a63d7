"""ganzoo's rows beside a paper's published numbers, with the verdict each gets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ganzoo.presets import protocol_overrides
from ganzoo.report.tables import cell, load_many, shown_name, shown_scale, table
from ganzoo.results import read_manifest


def published(paths: list[Path]) -> pd.DataFrame:
    """ganzoo's rows beside the paper's, in the same columns, for benches started from a preset (whose
    bench.json keeps the published numbers and the user's overrides of the protocol).

    One row per dataset x variant x metric x source: ganzoo's final values (mean and standard error over
    the finished seeds, as the papers report) and each published row with its verdict: an equivalence test
    within the margin the preset states for the metric (see :func:`equivalence`), "protocol differs" where
    the user overrode the protocol, "± as published" where the paper's spread is not a standard error."""
    records, notes = [], []
    for path in paths:
        manifest = read_manifest(Path(path))
        rec = (manifest or {}).get("preset")
        if not rec:
            raise ValueError(
                f"{path} was not run from a preset (ganzoo bench --preset NAME): it holds no published numbers to set beside"
            )
        differs = rec.get("protocol_overrides", protocol_overrides(rec.get("overrides", [])))
        records += [{**row, "protocol_differs": ", ".join(differs)} for row in rec["published"]]
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
            "features": t["features"] if "features" in t else None,
            "margin": np.nan,
            "verdict": "",
            "tost_p": np.nan,
            "distance_se": np.nan,
        }
    )
    rows = []
    for _, r in pub.iterrows():
        ours = mine[(mine.dataset == r.dataset) & (mine.variant == r.variant) & (mine.metric == r.metric)]
        mean, se, n = (
            (ours["mean"].iloc[0], ours["se"].iloc[0], int(ours["runs"].iloc[0])) if len(ours) else (np.nan, np.nan, 0)
        )
        features = ours["features"].iloc[0] if len(ours) else None  # the paper's row shown at ganzoo's row's scale
        spread, margin = r.get("spread"), r.get("margin")
        if r.get("protocol_differs"):  # not the paper's protocol: a verdict would claim what it cannot
            verdict = Verdict(f"protocol differs: {r['protocol_differs']}", np.nan, np.nan)
        elif pd.isna(spread) or spread == "se":  # a record written before the spread was kept: a standard error
            trials = r.get("trials")
            verdict = equivalence(mean, se, n, r["mean"], r.se, margin, None if pd.isna(trials) else int(trials))
        else:  # a spread the paper does not define: shown, never tested against
            verdict = Verdict(f"± {spread}", np.nan, np.nan)
        rows.append(
            {
                "dataset": r.dataset,
                "variant": r.variant,
                "metric": r.metric,
                "source": r.source,
                "protocol": "the paper's",
                "features": features,
                "runs": pd.NA,
                "mean": r["mean"],
                "se": r.se,
                "margin": np.nan if margin is None or pd.isna(margin) else float(margin),
                "verdict": verdict.text,
                "tost_p": verdict.p,
                "distance_se": verdict.distance,
            }
        )
    out = pd.concat([mine, pd.DataFrame(rows)], ignore_index=True)
    out["_mine"] = out["source"] == "ganzoo"
    out = out.sort_values(["dataset", "metric", "variant", "_mine"], ascending=[True, True, True, False], kind="stable")
    return out.drop(columns="_mine").reset_index(drop=True)


@dataclass(frozen=True)
class Verdict:
    """What a published comparison concludes: ``text`` for the table, the two one-sided tests' p-value (the
    larger of the two) and the gap in combined standard errors; both NaN where no test ran."""

    text: str
    p: float
    distance: float


def equivalence(
    ours: float,
    ours_se: float,
    ours_n: int,
    mean: float,
    se: float | None,
    margin: float | None,
    trials: int | None = None,
    alpha: float = 0.05,
) -> Verdict:
    """Schuirmann's two one-sided tests (TOST) of |ganzoo - paper| < ``margin``: a match is claimed only when
    both "ganzoo is lower by the margin or more" and "higher by the margin or more" are rejected at ``alpha``,
    i.e. when the 90% interval of the difference lies inside (-margin, margin). Failing to find a difference
    (the old "within 2 combined s.e.") is not evidence of a match: with two seeds the errors are wide and it
    is cheap. The difference's s.e. combines both sides' in quadrature, its degrees of freedom by
    Welch-Satterthwaite (``trials``: the paper's number; unknown, the normal limit).

    ``no s.e.`` when the paper gives none, ``no value`` when ganzoo has none, ``one run`` when ganzoo's s.e.
    is unknown, ``no margin stated`` when the preset gives the metric none."""
    nan = float("nan")
    if se is None or pd.isna(se):
        return Verdict("no s.e.", nan, nan)
    if pd.isna(ours):
        return Verdict("no value", nan, nan)
    if pd.isna(ours_se) or ours_n < 2:
        return Verdict("one run", nan, nan)
    diff = float(ours - mean)
    combined = float(np.hypot(ours_se, se))
    distance = abs(diff) / combined if combined > 0 else (0.0 if diff == 0 else float("inf"))
    if margin is None or pd.isna(margin):
        return Verdict("no margin stated", nan, distance)
    if combined == 0:
        p = 0.0 if abs(diff) < margin else 1.0
    else:
        from scipy import stats

        a, b = ours_se**2, float(se) ** 2
        dof_b = (trials - 1) if trials and trials > 1 else math.inf
        dof = (a + b) ** 2 / (a**2 / (ours_n - 1) + (b**2 / dof_b if b else 0.0)) if a + b else math.inf
        p = float(max(stats.t.sf((diff + margin) / combined, dof), stats.t.cdf((diff - margin) / combined, dof)))
    text = ("equivalent" if p < alpha else "not shown equivalent") + f" (margin ±{margin:g})"
    return Verdict(text, p, distance)


def published_display(t: pd.DataFrame) -> pd.DataFrame:
    d = t[["dataset", "variant", "metric", "source", "protocol"]].copy()
    d["metric"] = [shown_name(m, f) for m, f in zip(t["metric"], t["features"])]
    d["runs"] = ["" if pd.isna(n) else str(n) for n in t["runs"]]
    k = pd.Series([shown_scale(m, f) for m, f in zip(t["metric"], t["features"])], index=t.index)
    d["mean ± s.e."] = [cell(m, s, 0) for m, s in zip(t["mean"] * k, t["se"] * k)]
    d["margin"] = ["" if pd.isna(m) else f"±{m:g}" for m in t["margin"] * k]
    d["verdict (TOST at 5%)"] = t["verdict"]
    d["TOST p"] = ["" if pd.isna(x) else f"{x:.3g}" for x in t["tost_p"]]
    d["distance (combined s.e.)"] = ["" if pd.isna(x) else f"{x:.2f}" for x in t["distance_se"]]
    return d
