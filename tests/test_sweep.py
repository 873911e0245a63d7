"""Sweeps as Lucic et al. ran them (``ganzoo bench --sweep``): seeded samples inside their ranges, labels bound to their
divergence, refused values recorded and drawn again, the best-among-k curve, reading a sweep, and rerunning its best."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from ganzoo.cli import main
from ganzoo.config import BenchConfig
from ganzoo.report import best_of_k
from ganzoo.search import SPACES, Param, Sweep, SweepInputError, expand, parse_param


def _values(config: BenchConfig) -> dict[str, dict[str, str]]:
    return {label: config.settings[label] for label in config.sweep["runs"]}


def test_samples_are_seeded_inside_their_ranges_and_bound_to_their_divergence():
    base = BenchConfig(dataset="ring8", budget="2steps")
    sweep = Sweep(["gan"], ["nonsaturating", "wasserstein-gp"], "lucic-wide", samples=5, seed=3)
    a, b = expand(sweep, base), expand(sweep, base)
    assert _values(a) == _values(b)  # the same seed, the same settings
    assert _values(expand(Sweep(**{**sweep.__dict__, "seed": 4}), base)) != _values(a)
    assert "gan-wasserstein-gp-s002=gan@wasserstein-gp" in a.variants and len(a.variants) == 2 * 5
    for label, values in _values(a).items():
        assert (
            1e-5 <= float(values["lr"]) <= 1e-2
            and 0 <= float(values["beta1"]) <= 1
            and 1 <= int(values["d_steps"]) <= 5
        )
        assert "d_norm" not in values  # GAN's MLP has no BatchNorm switch: left out, and recorded
        assert ("wasserstein-gp.gp_weight" in values) == ("wasserstein-gp" in label)
        if "wasserstein-gp" in label:
            assert 0.1 <= float(values["wasserstein-gp.gp_weight"]) <= 1000
    assert a.sweep["left_out"] == {"gan": ["d_norm"]}


def test_a_refused_value_is_recorded_and_drawn_again():
    """WGAN-GP's critic must score each sample alone: DCGAN's d_norm=batch (on 28x28, where its critic has BatchNorm
    layers) is refused, recorded and drawn again."""
    config = expand(Sweep(["dcgan"], ["wasserstein-gp"], "lucic-wide", samples=2, seed=2), BenchConfig(dataset="mnist"))
    refused = config.sweep["refused"]
    assert refused and all(r["values"]["d_norm"] == "batch" and "BatchNorm" in r["why"] for r in refused)
    assert [v["d_norm"] for v in _values(config).values()] == ["none", "none"]


def test_narrow_space_fixes_beta1_and_d_steps():
    config = expand(Sweep(["gan"], None, "lucic-narrow", samples=3), BenchConfig(dataset="ring8"))
    for values in _values(config).values():
        assert values["beta1"] == "0.5" and values["d_steps"] == "1" and 1e-4 <= float(values["lr"]) <= 1e-3


def test_best_of_k_against_a_direct_count():
    """The mean of the minimum of k samples drawn without replacement has a closed form for distinct values: the
    i-th smallest of n is the minimum of a k-subset with probability C(n-i, k-1) / C(n, k)."""
    from math import comb

    scores = [5.0, 1.0, 4.0, 3.0, 9.0, 2.0]
    curve = {k: (mean, lo, hi) for k, mean, lo, hi in best_of_k(scores, rounds=20_000, seed=1)}
    ordered = sorted(scores)
    for k in range(1, len(scores) + 1):
        exact = sum(ordered[i] * comb(len(scores) - 1 - i, k - 1) for i in range(len(scores))) / comb(len(scores), k)
        assert curve[k][0] == pytest.approx(exact, abs=0.1)  # 20,000 rounds: within 4 s.e.
    assert curve[len(scores)] == (1.0, 1.0, 1.0)  # all of them: the best, always
    # drawn with replacement, a k-subset repeats samples and its best is worse: the classic slip moves the curve
    rng = np.random.default_rng(1)
    with_replacement = np.mean([rng.choice(scores, size=3, replace=True).min() for _ in range(20_000)])
    assert with_replacement - curve[3][0] > 0.2
    assert best_of_k([0.1, 0.9], lower_is_better=False)[-1][1] == pytest.approx(0.9)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sweep", "grid-of-dreams"], "unknown search space 'grid-of-dreams' (known: lucic-wide, lucic-narrow)"),
        (["--sweep", "lucic-wide", "--samples", "0"], "--samples 0: a sweep needs at least one sample"),
        (
            ["--sweep", "lucic-wide", "--param", "lr=log:1e-2:1e-5"],
            "parameter 'lr': the range [0.01, 1e-05] is empty or inverted",
        ),
        (["--sweep", "lucic-wide", "--param", "lr=log:0:1"], "a log-uniform range needs a positive low end"),
        (["--sweep", "lucic-wide", "--param", "warp=uniform:0:1"], "--param warp: gan has no parameter 'warp'"),
        (["--sweep", "lucic-wide", "--param", "lr"], "is not NAME=KIND:ARGS"),
        (["--samples", "5"], "--samples goes with --sweep SPACE"),
    ],
)
def test_bad_sweeps_are_one_line_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "b"
    result = CliRunner().invoke(
        main, ["bench", "--variants", "gan", "--dataset", "ring8", "--budget", "2steps", "--out", str(out), *args]
    )
    assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1, (
        result.output
    )
    assert not out.exists()


def test_parse_param_forms():
    assert parse_param("lr=log:1e-5:1e-2") == ("lr", Param("log", 1e-5, 1e-2))
    assert parse_param("d_norm=choice:batch,none") == ("d_norm", Param("choice", choices=("batch", "none")))
    assert parse_param("d_steps=int:1:5") == ("d_steps", Param("int", 1, 5))
    assert parse_param("beta1=fixed:0.5") == ("beta1", Param("fixed", 0.5))
    with pytest.raises(SweepInputError, match="at least one value"):
        parse_param("d_norm=choice:")
    assert set(SPACES) == {"lucic-wide", "lucic-narrow"}


def test_a_sweep_runs_reads_and_reruns_its_best(tmp_path):
    out = tmp_path / "sweep"
    run = CliRunner().invoke(
        main,
        [
            "bench",
            "--sweep",
            "lucic-narrow",
            "--samples",
            "3",
            "--variants",
            "gan",
            "--dataset",
            "ring8",
            "--metrics",
            "modes",
            "--budget",
            "6steps",
            "--out",
            str(out),
        ],
    )
    assert run.exit_code == 0, run.output
    assert "sweep: best of the sampled settings by final" in run.output
    manifest = json.loads((out / "bench.json").read_text())
    assert manifest["config"]["sweep"]["space"] == "lucic-narrow" and len(manifest["config"]["sweep"]["runs"]) == 3
    table = CliRunner().invoke(main, ["table", str(out), "--format", "csv"])
    assert table.exit_code == 0, table.output
    import io

    import pandas as pd

    best = pd.read_csv(io.StringIO(table.output))
    assert list(best["variant"]) == ["gan"] and best["samples"].iloc[0] == 3
    assert "gan-minimax-s0" in (out / "report.html").read_text() and "Sweep: sweep" in (out / "report.html").read_text()
    figure = CliRunner().invoke(main, ["plot", str(out), "--sweep", "--out", str(tmp_path / "k.png")])
    assert figure.exit_code == 0 and (tmp_path / "k.png").stat().st_size > 5_000, figure.output
    again = CliRunner().invoke(
        main, ["bench", "--rerun-best", "2", "--from-sweep", str(out), "--out", str(tmp_path / "best")]
    )
    assert again.exit_code == 0, again.output
    rerun = json.loads((tmp_path / "best" / "bench.json").read_text())["config"]
    label = best["best sample"].iloc[0]
    assert rerun["variants"] == ["gan-minimax-best=gan@minimax"] and rerun["seeds"] == [0, 1]
    assert rerun["settings"]["gan-minimax-best"] == manifest["config"]["sweep"]["runs"][label]["values"]
    assert rerun["budget"] == "6steps" and rerun["sweep"]["rerun_best_of"] == str(out)


def test_rerun_best_keeps_the_sweeps_protocol(tmp_path):
    result = CliRunner().invoke(
        main, ["bench", "--rerun-best", "3", "--from-sweep", str(tmp_path), "--budget", "9steps"]
    )
    assert result.exit_code == 2 and "leave out --budget" in result.output, result.output
    result = CliRunner().invoke(main, ["bench", "--rerun-best", "3"])
    assert result.exit_code == 2 and "go together" in result.output, result.output
