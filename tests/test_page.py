"""The report page (``ganzoo report``, and the page a bench writes when it ends), opened in a real browser: no console
error, no missing image, the comparison cells equal ``ganzoo table``'s, strings from a results folder escaped.
TensorBoard event files, read back. The closing table fits an 80-column terminal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganzoo import report
from ganzoo.cli import main
from ganzoo.config import BenchConfig
from ganzoo.runner import run_bench

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Two variants x two seeds on digits, one of them failing (a learning rate that overflows), with TensorBoard."""
    out = tmp_path_factory.mktemp("study") / "b"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--variants",
            "gan,hot=gan",
            "--set",
            "hot.lr=1e30",
            "--dataset",
            "digits",
            "--metrics",
            "fidelity",
            "--seeds",
            "2",
            "--budget",
            "20steps",
            "--eval-every",
            "10steps",
            "--tensorboard",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 1, result.output  # the failing runs make the bench exit 1; everything else is written
    return out, result.output


def test_a_bench_writes_its_page_and_a_closing_table_that_fits_80_columns(study):
    out, printed = study
    assert (out / "report.html").is_file()
    table = printed[: printed.index("every value")]
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "gan/minimax" in table and "hot/minimax lr=1e+30" in table and "0/2" in table
    assert f"ganzoo table {out}" in printed and str(out / "report.html") in printed


def _browse(page_path: Path, screenshot: Path) -> dict:
    sync_playwright = pytest.importorskip(
        "playwright.sync_api", reason="needs Playwright: pip install playwright"
    ).sync_playwright
    if CHROMIUM is None:
        pytest.skip("needs Chromium (Debian: apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(page_path.resolve().as_uri())
            page.wait_for_load_state("load")
            seen = page.evaluate("""() => ({
                broken: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')),
                images: document.images.length,
                scripts: document.scripts.length,
                head: Array.from(document.querySelectorAll('#comparison thead th')).map(c => c.textContent),
                cells: Array.from(document.querySelectorAll('#comparison tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent)),
                failures: Array.from(document.querySelectorAll('#failures tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent)),
                text: document.body.innerText,
            })""")
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    seen["errors"] = errors
    return seen


def test_the_page_in_a_browser_shows_ganzoo_tables_cells_and_every_picture(study, tmp_path):
    out, _ = study
    seen = _browse(out / "report.html", tmp_path / "page.png")
    assert seen["errors"] == [] and seen["broken"] == [], (seen["errors"], seen["broken"])
    assert seen["images"] >= 2 + 4  # the curves, the losses, and each finished run's sheets
    shown = report.display(report.table(report.load_many([out]).assign(source="")))
    assert seen["head"] == list(shown.columns)
    assert seen["cells"] == [[str(v) for v in row] for row in shown.itertuples(index=False)]
    assert {row[0] for row in seen["failures"]} == {"hot-minimax-s0", "hot-minimax-s1"}
    assert all("non-finite loss" in row[3] and row[2] == "10" for row in seen["failures"])
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_a_copied_folder_keeps_its_pictures(study, tmp_path):
    out, _ = study
    copy = tmp_path / "elsewhere" / "b"
    shutil.copytree(out, copy)
    seen = _browse(copy / "report.html", tmp_path / "copy.png")
    assert seen["broken"] == [] and seen["images"] >= 6


def test_strings_from_a_results_folder_are_escaped(study, tmp_path):
    """A crafted detail and run id (a copied or foreign folder) are text on the page, never markup."""
    out, _ = study
    crafted = tmp_path / "crafted"
    shutil.copytree(out, crafted)
    csv = (crafted / "results.csv").read_text()
    csv = csv.replace("FloatingPointError", "<script>document.title='owned'</script><img src=x onerror=alert(1)>")
    (crafted / "results.csv").write_text(csv)
    manifest = json.loads((crafted / "bench.json").read_text())
    manifest["left_out"] = {"<b>x</b>": "<script>alert(2)</script>"}
    (crafted / "bench.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(main, ["report", str(crafted), "--out", str(tmp_path / "page.html")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "page.html").read_text()
    assert "<script>" not in html and "<img src=x" not in html and "&lt;script&gt;" in html
    seen = _browse(tmp_path / "page.html", tmp_path / "crafted.png")
    assert seen["scripts"] == 0 and "<script>document.title='owned'</script>" in seen["text"]


def test_report_refuses_what_it_cannot_draw(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    result = CliRunner().invoke(main, ["report", str(tmp_path), "--out", str(tmp_path / "page.pdf")])
    assert result.exit_code == 2 and "give a .html path" in result.output


def test_tensorboard_events_read_back(study):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out, _ = study
    runs = sorted(p.name for p in (out / "tensorboard").iterdir())
    assert runs == ["gan-minimax-s0", "gan-minimax-s1", "hot-minimax-s0", "hot-minimax-s1"]
    events = EventAccumulator(str(out / "tensorboard" / "gan-minimax-s1"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    fid = [(e.step, e.value) for e in events.Scalars("eval/fid")]
    rows = report.load_many([out])
    expected = rows[(rows["run_id"] == "gan-minimax-s1") & (rows["metric"] == "fid")][["step", "value"]]
    assert [s for s, _ in fid] == list(expected["step"]) and [v for _, v in fid] == pytest.approx(
        list(expected["value"]), rel=1e-6
    )
    assert [e.step for e in events.Scalars("train/loss_g")] == [10, 20]
    assert [e.step for e in events.Images("samples")] == [0, 10, 20]
    hparams = EventAccumulator(str(out / "tensorboard" / "gan-minimax-s1" / "hparams"))
    hparams.Reload()
    assert "final/fid" in hparams.Tags()["scalars"]


def test_tensorboard_is_refused_in_one_line_without_it(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    result = CliRunner().invoke(main, ["bench", "--variants", "gan", "--tensorboard", "--out", str(tmp_path / "b")])
    assert (
        result.exit_code == 2 and 'pip install "ganzoo[tensorboard]"' in result.output and not (tmp_path / "b").exists()
    )


def test_a_resumed_bench_rewrites_its_page(tmp_path):
    out = tmp_path / "b"
    run_bench(BenchConfig(variants=["gan"], dataset="ring8", metrics=["modes"], budget="4steps", out=out))
    (out / "report.html").unlink()
    run_bench(resume=out)
    assert "gan-minimax-s0" in (out / "report.html").read_text()


def test_curves_of_many_lines_name_sixteen_and_count_the_rest():
    """A sweep draws a line per sample: 40 long labels still make a picture (they once made matplotlib refuse the
    margins), its legend names 16 lines and counts the rest."""
    import pandas as pd

    from ganzoo import page

    rows = [
        dict(
            run_id=f"gan-minimax-s{i:03d}-minimax-s0",
            dataset="ring8",
            variant=f"gan-minimax-s{i:03d}",
            divergence="minimax",
            seed=0,
            step=step,
            images_seen=step * 64,
            device_seconds=step / 10,
            metric=metric,
            value=float(i + step),
            detail="",
            features="",
            budget="20steps",
            settings=f"beta1=0.{i:04d};d_steps=3;lr=0.000{i:04d}",
        )
        for i in range(40)
        for step in (0, 10, 20)
        for metric in ("modes", "hq_share", "status")
    ]
    picture = page._curves(pd.DataFrame(rows), ["modes", "hq_share"], "steps", "t")
    assert picture is not None and picture.startswith("data:image/png;base64,") and len(picture) > 10_000
