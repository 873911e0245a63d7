"""ganzoo's rows beside a paper's published numbers, with the verdict each gets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ganzoo.presets import protocol_overrides
from ganzoo.report.tables import cell, load_many, table
from ganzoo.results import read_manifest


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
            "within_2se": "",
            "distance_se": np.nan,
        }
    )
    rows = []
    for _, r in pub.iterrows():
        ours = mine[(mine.dataset == r.dataset) & (mine.variant == r.variant) & (mine.metric == r.metric)]
        mean, se = (ours["mean"].iloc[0], ours["se"].iloc[0]) if len(ours) else (float("nan"), float("nan"))
        spread = r.get("spread")
        if r.get("protocol_differs"):  # not the paper's protocol: a verdict would claim what it cannot
            verdict, distance = f"protocol differs: {r['protocol_differs']}", float("nan")
        elif pd.isna(spread) or spread == "se":  # a record written before the spread was kept: a standard error
            verdict, distance = within_2se(mean, se, r["mean"], r.se)
        else:  # a spread the paper does not define: shown, never tested against
            verdict, distance = f"± {spread}", float("nan")
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
