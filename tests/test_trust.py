"""Nothing trusted: a results folder is checked before a resumed bench believes it, click's own usage
errors are one line, and every report command says what a reader must know about odd results."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganzoo.cli import main

SMALL = ["bench", "--variants", "gan", "--dataset", "ring8", "--budget", "2steps", "--metrics", "modes"]


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def one_line_exit_2(result, needle: str) -> None:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and needle in lines[0], result.output


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trust") / "base"
    result = cli(*SMALL, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _crafted(base: Path, tmp_path: Path, **config) -> Path:
    out = tmp_path / "crafted"
    shutil.copytree(base, out)
    bench = json.loads((out / "bench.json").read_text())
    bench["config"].update(config)
    (out / "bench.json").write_text(json.dumps(bench))
    return out


@pytest.mark.parametrize(
    "field,value,needle",
    [
        ("seeds", ["0/../../x"], "seeds"),
        ("seeds", [0.5], "non-negative integers"),
        ("budget", "abc", "invalid budget 'abc'"),
        ("workers", 0, "workers"),
        ("data_dir", "/tmp/elsewhere", "--data-dir"),
        ("ray_address", "10.0.0.1:6379", "--ray-address"),
        ("settings", {"gan": {"lr": 3}}, "settings"),
    ],
)
def test_a_crafted_bench_json_is_refused_in_one_line(base, tmp_path, field, value, needle):
    out = _crafted(base, tmp_path, **{field: value})
    before = sorted(p.name for p in out.rglob("*"))
    one_line_exit_2(cli("bench", "--resume", str(out)), needle)
    assert sorted(p.name for p in out.rglob("*")) == before  # nothing written
    assert not list(tmp_path.glob("*-s0.5")) and not (tmp_path / "x").exists()


def test_a_resumed_bench_caches_where_this_command_line_says(base, tmp_path):
    out = _crafted(base, tmp_path, cache_dir=str(tmp_path / "theirs"))
    assert cli("bench", "--resume", str(out)).exit_code == 0
    assert json.loads((out / "bench.json").read_text())["config"]["cache_dir"] is None  # the default, not the file's
    assert cli("bench", "--resume", str(out), "--cache-dir", str(tmp_path / "given")).exit_code == 0
    assert json.loads((out / "bench.json").read_text())["config"]["cache_dir"] == str(tmp_path / "given")
    assert not (tmp_path / "theirs").exists()


def test_executor_ray_without_ray_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    one_line_exit_2(cli(*SMALL, "--executor", "ray", "--out", str(tmp_path / "r")), 'pip install "ganzoo[ray]"')
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--workers", "0"], "'--workers': 0 is not in the range"),
        (["--threads", "0"], "'--threads'"),
        (["--executor", "bogus"], "'bogus' is not one of"),
        (["--max-retries", "-1"], "'--max-retries'"),
        (["--batch-size", "0"], "'--batch-size'"),
        (["--allow-code-change"], "--allow-code-change goes with --resume"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, args, needle):
    one_line_exit_2(cli(*SMALL, *args, "--out", str(tmp_path / "u")), needle)
    assert not (tmp_path / "u").exists()


def test_a_file_where_a_folder_is_expected_is_one_line(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    one_line_exit_2(cli("bench", "--resume", str(f)), "is a file")


def test_a_divergence_for_variants_without_a_discriminator_is_refused(tmp_path):
    one_line_exit_2(
        cli("bench", "--variants", "vae", "--divergences", "hinge", "--out", str(tmp_path / "v")),
        "no divergence applies",
    )


def _rewrite(folder: Path, keep=lambda row: True, change=lambda row: row) -> None:
    rows = list(csv.DictReader((folder / "results.csv").open()))
    with (folder / "results.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(change(dict(r)) for r in rows if keep(r))


def test_table_of_results_without_scores_says_so(base, tmp_path):
    out = tmp_path / "losses"
    shutil.copytree(base, out)
    _rewrite(out, keep=lambda r: r["metric"] == "status" or r["metric"].startswith("loss"))
    one_line_exit_2(cli("table", str(out)), "no scores to tabulate")


def test_infinite_values_are_said_in_table_and_plot(base, tmp_path):
    out = tmp_path / "inf"
    shutil.copytree(base, out)
    _rewrite(out, change=lambda r: {**r, "value": "inf"} if r["metric"] == "modes" else r)
    table = cli("table", str(out))
    assert table.exit_code == 0 and "infinite (modes" in table.output
    plot = cli("plot", str(out), "--metric", "modes", "--out", str(tmp_path / "p.png"))
    assert plot.exit_code == 0 and "infinite" in plot.output and (tmp_path / "p.png").exists()


def test_table_over_two_datasets_and_compare_with_a_partial_bench_say_so(base, tmp_path):
    grid = tmp_path / "grid"
    assert cli(*[a if a != "ring8" else "grid25" for a in SMALL], "--out", str(grid)).exit_code == 0
    both = cli("table", str(base), str(grid))
    assert both.exit_code == 0 and "2 datasets (grid25, ring8)" in both.output
    partial = tmp_path / "partial"
    shutil.copytree(base, partial)
    bench = json.loads((partial / "bench.json").read_text())
    (partial / "bench.json").write_text(json.dumps({**bench, "status": "interrupted"}))
    compared = cli("compare", str(base), str(partial))
    assert compared.exit_code == 0 and "has not finished (bench.json: interrupted)" in compared.output
