"""``ganzoo report``: one static HTML page for one or several results folders, opened from the file system with
no server. What ran, the comparison table (the same cells ``ganzoo table`` prints), a preset's published rows
beside ganzoo's, every summary metric and the losses against the budget, each run's sample sheets, and the runs
that failed or were interrupted, with their error and the step they reached.

Pictures of curves are embedded (PNG, base64), sample sheets are linked by relative path, so the page works
wherever the results folder (with the page inside it) is copied. Every string from a results folder goes
through :func:`html.escape`: a folder is data, never markup. pandas and matplotlib only: no torch.
"""

from __future__ import annotations

import base64
import html
import io
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from ganzoo import __version__, report
from ganzoo.results import KEYS, atomic_write_text, read_manifest

PAGE = "report.html"
HISTORY = 12  # small sample sheets shown per run, evenly spaced over its evaluation points
LEGEND = 16  # lines a curve's legend names

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } tr.best td.col-final { font-weight: bold; background: #eef8ee; }
.fail { color: #a00; } .warn { color: #a60; } .dim { color: #777; }
.run { display: inline-block; margin: 0 1.5em 1.5em 0; vertical-align: top; }
.run img.latest { width: 256px; image-rendering: pixelated; border: 1px solid #ccc; }
.history img { width: 64px; image-rendering: pixelated; margin: 1px; border: 1px solid #eee; }
img.curves { max-width: 100%; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 1em; } dt { font-weight: bold; }
"""


def e(value: Any) -> str:
    """Any value as escaped text (NaN as an empty cell)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _table(df: pd.DataFrame, table_id: str, best: pd.Series | None = None) -> str:
    head = "".join(f"<th>{e(c)}</th>" for c in df.columns)
    rows = []
    for i, row in enumerate(df.itertuples(index=False)):
        cls = ' class="best"' if best is not None and bool(best.iloc[i]) else ""
        cells = "".join(f'<td class="col-{e(str(c).replace(" ", "-"))}">{e(v)}</td>' for c, v in zip(df.columns, row))
        rows.append(f"<tr{cls}>{cells}</tr>")
    return f'<table id="{e(table_id)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _curves(df: pd.DataFrame, metrics: list[str], measure: str, title: str) -> str | None:
    """One panel per metric against the budget's measure: the mean over seeds and a ±std band, one line per
    dataset x variant x divergence x setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in metrics if m in set(df["metric"])]
    if not metrics:
        return None
    x = report.MEASURES[measure]
    info = report.run_info(df)
    data = df[df["metric"].isin(metrics)].copy()
    data = data[np.isfinite(data["value"].to_numpy(dtype=float))]
    data["setting"] = data["run_id"].map(info["setting"]).fillna("")
    groups = sorted({tuple(g) for g in data[[*KEYS, "setting"]].itertuples(index=False)})
    colours = {
        g: plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")(i % 20) for i, g in enumerate(groups)
    }  # one per line, every panel
    several = data["dataset"].nunique() > 1
    cols = min(3, len(metrics))
    rows = -(-len(metrics) // cols)
    named = groups[:LEGEND]  # a sweep has a line per sample: the legend names the first ones and counts the rest
    longest = max((len(f"{v}/{d} {st} ({ds})") for ds, v, d, st in named), default=10)
    per_row = max(1, min(4, int(17 * 4.2 * cols / (min(longest, 60) + 6))))
    legend_in = 0.25 + 0.16 * -(-(len(named) + (len(groups) > LEGEND)) // per_row)  # legend rows, in inches
    height = 3.1 * rows + legend_in + 0.8
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, height), dpi=80, squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        for group, g in data[data["metric"] == metric].groupby([*KEYS, "setting"]):
            curve = g.groupby("step").agg(
                x=(x, "mean"), mean=("value", "mean"), std=("value", "std"), n=("value", "size")
            )
            ax.plot(curve["x"], curve["mean"], marker="o", ms=2.5, lw=1.2, color=colours[group])
            if curve["n"].max() > 1:
                std = curve["std"].fillna(0)
                ax.fill_between(curve["x"], curve["mean"] - std, curve["mean"] + std, color=colours[group], alpha=0.18)
        if metric in ("fid", "kid") and (data.loc[data["metric"] == metric, "value"] > 0).all():
            ax.set_yscale("log")  # the first evaluation, of an untrained generator, dwarfs the rest
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel(measure, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    from matplotlib.lines import Line2D

    labels = [f"{v}/{d}" + (f" {st}" if st else "") + (f" ({ds})" if several else "") for ds, v, d, st in named]
    handles = [Line2D([], [], color=colours[g], marker="o", ms=3) for g in named]
    if len(groups) > LEGEND:
        labels.append(f"and {len(groups) - LEGEND} more lines (the table names them)")
        handles.append(Line2D([], [], color="none"))
    labels = [label if len(label) <= 60 else label[:59] + "…" for label in labels]
    ncol = max(
        1, min(4, len(labels), int(17 * 4.2 * cols / (max(map(len, labels)) + 6)))
    )  # about 17 characters an inch at 7 pt
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10, y=1 - 0.15 / height, va="top")
    # fixed margins, in inches: tight_layout measures every tick label and took half the page's time
    fig.subplots_adjust(
        left=0.08, right=0.98, top=1 - 0.8 / height, bottom=(legend_in + 0.45) / height, hspace=0.6, wspace=0.35
    )
    return _png(fig)


def _rel(path: Path, page: Path) -> str:
    return quote(os.path.relpath(path.resolve(), page.parent.resolve()).replace(os.sep, "/"))


def _runs_section(folder: Path, df: pd.DataFrame, page: Path) -> str:
    """Each run's latest sample sheet (large) and its history (small), failures first with their error."""
    info = report.run_info(df)
    last = df.groupby("run_id").agg(step=("step", "max"))
    detail = df[df["metric"] == "status"].groupby("run_id")["detail"].last()
    parts = []
    for run_id in sorted(info.index, key=lambda r: (info.loc[r, "status"] == "ok", r)):
        status = info.loc[run_id, "status"]
        local = run_id.split(":", 1)[-1]
        sheets = sorted((folder / "runs" / local / "samples").glob("step-*.png"))
        picked = (
            [sheets[int(i)] for i in np.unique(np.linspace(0, len(sheets) - 1, min(HISTORY, len(sheets))).round())]
            if sheets
            else []
        )
        cls = {"ok": "", "failed": "fail", "interrupted": "warn", "unfinished": "warn"}[status]
        why = detail.get(run_id, "")
        head = (
            f'<div class="run" data-run="{e(run_id)}"><h3 class="{cls}">{e(local)} <span class="dim">{e(status)}, '
            f"step {e(int(last.loc[run_id, 'step']))}</span></h3>"
        )
        if status != "ok":
            head += f'<p class="{cls}">{e(why) or "no status row: the bench stopped before this run ended"}</p>'
        if sheets:
            head += (
                f'<p><img class="latest" src="{_rel(sheets[-1], page)}" alt="{e(local)} {e(sheets[-1].stem)}" '
                f'title="{e(sheets[-1].stem)}"></p>'
            )
            head += (
                '<p class="history">'
                + "".join(f'<img src="{_rel(s, page)}" alt="{e(s.stem)}" title="{e(s.stem)}">' for s in picked)
                + "</p>"
            )
        parts.append(head + "</div>")
    return "".join(parts)


def _what_ran(folder: Path, manifest: dict[str, Any]) -> str:
    config = manifest.get("config", {})
    env = manifest.get("environment", {})
    versions = env.get("versions", {})
    items = {
        "results": str(folder),
        "status": manifest.get("status"),
        "dataset": f"{manifest.get('dataset', {}).get('name')} ({manifest.get('dataset', {}).get('split')} split)",
        "runs": ", ".join(manifest.get("runs", [])),
        "budget": f"{config.get('budget')} per run, evaluated every {config.get('eval_every') or 'quarter'}",
        "seeds": ", ".join(map(str, config.get("seeds", []))),
        "features": config.get("features"),
        "settings": "; ".join(
            f"--set {k}.{p}={v}"
            for k, kv in (config.get("settings", config.get("hparams")) or {}).items()
            for p, v in kv.items()
        )
        or "defaults",
        "started": manifest.get("started"),
        "finished": manifest.get("finished") or manifest.get("interrupted") or "",
        "device": f"{env.get('device')} ({env.get('gpu') or env.get('processor')}, {env.get('cpu_threads')} threads)",
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items() if v),
        "git revision": env.get("git_revision") or "",
    }
    preset = manifest.get("preset")
    if preset:
        items["preset"] = f"{preset['name']} ({preset['paper']}): {preset['protocol']}"
        items["overrides"] = ", ".join(preset.get("overrides", [])) or "none: as published"
        items["deviations"] = preset.get("deviations") or ""
    for name, why in (manifest.get("left_out") or {}).items():
        items[f"left out: {name}"] = why
    return (
        "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in items.items() if v not in (None, "")) + "</dl>"
    )


def _sweep_section(path: Path, manifest: dict[str, Any], df: pd.DataFrame) -> str:
    """A sweep (ganzoo bench --sweep): its space, the best setting of each variant x divergence, and Lucic et al.'s
    figure (the best score among k samples as k grows) beside a box plot of the samples."""
    sweep = manifest["config"]["sweep"]
    head = (
        f"<h2>Sweep: {e(path.name)}</h2><p>space {e(sweep['space'])}, {e(sweep['samples'])} samples per variant x divergence, "
        f"sampler {e(sweep['sampler'])} (Optuna), seed {e(sweep['seed'])}; {e(len(sweep.get('refused', [])))} draws refused by a "
        "variant and drawn again.</p>"
    )
    space = pd.DataFrame([{"variant/divergence": k, **v} for k, v in sweep.get("parameters", {}).items()]).fillna("")
    try:
        best = report.sweep_best(df, manifest)
        figure = report.plot_sweep(df, manifest)
    except ValueError as exc:
        return head + f'<p class="warn">{e(exc)}</p>'
    src = "data:image/png;base64," + base64.b64encode(figure).decode()
    return (
        head
        + _table(space, "sweep-space")
        + _table(
            best.assign(best=best["best"].map("{:.4g}".format), median=best["median"].map("{:.4g}".format)),
            "sweep-best",
        )
        + f'<p><img class="curves" src="{src}" alt="best score among k samples"></p>'
    )


def write_page(paths: list[Path], out: Path | None = None) -> Path:
    """The page for ``paths`` (results folders), written atomically to ``out`` (default: ``report.html`` in the
    first folder). Raises ValueError for a folder that holds no results."""
    paths = [Path(p) for p in paths]
    out = Path(out) if out is not None else paths[0] / PAGE
    df = report.load_many(paths).assign(source="")
    manifests = [read_manifest(p) or {} for p in paths]
    summary = list(dict.fromkeys(m for man in manifests for m in man.get("summary_metrics", [])))
    measure = report.budget_measure([str(p) for p in paths], df)
    sections = [
        f'<h1>ganzoo report</h1><p class="dim">{e(", ".join(map(str, paths)))}: written '
        f"{e(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))} by ganzoo {e(__version__)}</p>"
    ]
    for note in report.notes(df):
        sections.append(f'<p class="warn">note: {e(note)}</p>')
    sections.append("<h2>What ran</h2>" + "".join(_what_ran(p, man) for p, man in zip(paths, manifests)))

    scores = df[df["metric"].map(report.is_score)]
    if not scores.empty:
        t = report.table(df)
        shown = report.display(t)
        best = shown["final"].str.endswith(" *")
        m, reached = t.attrs["equal_budget"]
        paper = report.paper_table(t, [m for m in summary if m in set(t["metric"])] or None)
        sections.append(
            "<h2>Comparison</h2><p>final values: mean ± standard error over the finished runs (n of them); * best "
            "per dataset and metric.</p>" + _table(paper, "paper")
        )
        sections.append(
            "<h3>Every value</h3><p>final, best and equal-budget values: mean ± std over finished runs; "
            f"* and bold: best final per dataset and metric; equal budget: "
            f"{e('no run finished' if pd.isna(reached) else f'{reached:g} {m}')}. The same cells as "
            "<code>ganzoo table</code>.</p>" + _table(shown, "comparison", best)
        )
    else:
        sections.append(
            '<h2>Comparison</h2><p class="warn">no scores: no metric could score the data, or no run reached its '
            "first evaluation</p>"
        )
    if any(man.get("preset") for man in manifests):
        try:
            rules = sorted({(man.get("preset") or {}).get("margin_rule", "") for man in manifests} - {""})
            sections.append(
                "<h2>Beside the paper</h2>"
                + "".join(f"<p>equivalence margins: {e(rule)}</p>" for rule in rules)
                + _table(report.published_display(report.published(paths)), "published")
            )
        except ValueError as exc:
            sections.append(f'<h2>Beside the paper</h2><p class="warn">{e(exc)}</p>')

    for path, man in zip(paths, manifests):
        if report.sweep_record(man) is not None:
            sections.append(_sweep_section(path, man, df if len(paths) == 1 else report.load_many([path])))
    curves = _curves(df, summary or sorted(set(scores["metric"])), measure, "summary metrics: mean ± std over seeds")
    losses = _curves(
        df,
        sorted(m for m in set(df["metric"]) if m.startswith("loss_") or m == "divergence"),
        measure,
        "losses and the divergence estimate, mean over each evaluation interval",
    )
    sections.append(
        "<h2>Over the budget</h2>"
        + "".join(
            f'<p><img class="curves" src="{src}" alt="{alt}"></p>'
            for src, alt in ((curves, "summary metrics"), (losses, "losses"))
            if src
        )
    )

    info = report.run_info(df)
    bad = info[info["status"] != "ok"]
    if len(bad):
        status_rows = (
            df[df["metric"] == "status"].groupby("run_id").agg(step=("step", "last"), detail=("detail", "last"))
        )
        failed = pd.DataFrame(
            {
                "run": bad.index,
                "status": bad["status"].to_numpy(),
                "step reached": [int(df[df["run_id"] == r]["step"].max()) for r in bad.index],
                "error": [status_rows["detail"].get(r, "") for r in bad.index],
            }
        )
        sections.append("<h2>Runs that did not finish</h2>" + _table(failed, "failures"))
    sections.append(
        "<h2>Samples</h2>"
        + "".join(
            _runs_section(p, df[df["run_id"].str.startswith(f"{i}:")] if len(paths) > 1 else df, out)
            for i, p in enumerate(paths)
        )
    )
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>ganzoo report: {e(paths[0].name)}</title>'
        f"<style>{STYLE}</style></head><body>{''.join(sections)}</body></html>\n"
    )
    atomic_write_text(out, page)
    return out
