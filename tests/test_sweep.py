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
            assert 0.1 <= float(values["wasserstein-gp.gp_weight"]) <= 100  # compare_gan's wide range
    assert a.sweep["left_out"] == {"gan": ["d_norm"]}


def test_a_refused_value_is_recorded_and_drawn_again():
    """WGAN-GP's critic must score each sample alone: DCGAN's d_norm=batch (on 28x28, where its critic has BatchNorm
    layers) is refused, recorded and drawn again."""
    config = expand(Sweep(["dcgan"], ["wasserstein-gp"], "lucic-wide", samples=4, seed=2), BenchConfig(dataset="mnist"))
    refused = config.sweep["refused"]
    assert refused and all(r["values"]["d_norm"] == "batch" and "BatchNorm" in r["why"] for r in refused)
    assert [v["d_norm"] for v in _values(config).values()] == ["none"] * 4


def test_narrow_space_fixes_beta1_and_d_steps():
    config = expand(Sweep(["gan"], None, "lucic-narrow", samples=3), BenchConfig(dataset="ring8"))
    for label, values in _values(config).items():
        if label.endswith("-s000"):  # the loss's default setting, as compare_gan runs it whatever the range
            assert (values["lr"], values["beta1"]) == ("5e-05", "0")
            continue
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
    assert "sweep: best of the sampled settings by modes, each sample's best over its evaluation points" in " ".join(
        run.output.split()
    )
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


# -- Lucic et al.'s study as google/compare_gan v1 ran it (src/params.py, src/generate_tasks_lib.py) --------------


def test_every_sample_trains_with_adam_and_its_beta2_whatever_the_losss_recipe():
    """compare_gan trains every loss with Adam(lr, beta1) (TensorFlow's beta2, 0.999): a sample's values replace
    WGAN's RMSProp and WGAN-GP's beta2 = 0.9, not only the recipe keys of the same name (before: RMSProp stayed,
    so WGAN's sampled beta1 did nothing)."""
    from ganzoo.factory import create_variant, dataset_info
    from ganzoo.plan import plan

    base = BenchConfig(dataset="digits", budget="2steps")
    config = expand(Sweep(["gan"], ["wasserstein", "wasserstein-gp"], "lucic-wide", samples=2, seed=1), base)
    p = plan(BenchConfig(**{**config.__dict__, "out": base.out}))
    info = dataset_info("digits")
    for spec in p.runs:
        training = create_variant(spec.build, info).training
        assert (training.optimizer, training.beta2) == ("adam", 0.999), spec.run_id
        assert training.lr == float(config.settings[spec.variant]["lr"])


@pytest.mark.parametrize(
    "space, divergence, name, low, high",
    [
        ("lucic-wide", "wasserstein-gp", "wasserstein-gp.gp_weight", 0.1, 100.0),
        ("lucic-narrow", "wasserstein-gp", "wasserstein-gp.gp_weight", 0.1, 10.0),
        ("lucic-wide", "wasserstein", "wasserstein.clip", 1e-3, 1.0),
        ("lucic-narrow", "wasserstein", "wasserstein.clip", 1e-2, 1.0),
    ],
)
def test_a_losss_own_range_is_the_studys_per_space(space, divergence, name, low, high):
    """Before: WGAN-GP's lambda in [0.1, 1000] and WGAN's clip in [0.001, 0.1] in both spaces (ganzoo's ranges)."""
    from ganzoo.search import space_for

    param = space_for(space, "dcgan", divergence)[0][name]
    assert (param.kind, param.low, param.high) == ("log", low, high)


def test_the_narrow_space_samples_batchnorm_except_under_wgan_gp():
    """compare_gan's narrow range draws BatchNorm in D on or off for GAN, LSGAN and WGAN, and fixes it off for
    WGAN-GP (before: no switch in the narrow space)."""
    from ganzoo.search import space_for

    for divergence in ("minimax", "nonsaturating", "least-squares", "wasserstein"):
        d_norm = space_for("lucic-narrow", "dcgan", divergence)[0]["d_norm"]
        assert (d_norm.kind, d_norm.choices) == ("choice", ("batch", "none")), divergence
    d_norm = space_for("lucic-narrow", "dcgan", "wasserstein-gp")[0]["d_norm"]
    assert (d_norm.kind, d_norm.low) == ("fixed", "none")


def test_sample_0_is_each_losss_default_setting():
    """compare_gan always includes the default parameters as its first sample (before: sample 0 was a draw)."""
    config = expand(
        Sweep(["dcgan"], ["nonsaturating", "wasserstein", "wasserstein-gp"], "lucic-wide", samples=2, seed=5),
        BenchConfig(dataset="digits"),
    )
    values = _values(config)
    assert values["dcgan-nonsaturating-s000"] == {
        "lr": "5e-05",
        "beta1": "0",
        "d_steps": "1",
        "d_norm": "batch",
        "optimizer": "adam",
        "beta2": "0.999",
    }
    assert (
        values["dcgan-wasserstein-s000"]["d_steps"] == "5"
        and values["dcgan-wasserstein-s000"]["wasserstein.clip"] == "0.01"
    )
    gp = values["dcgan-wasserstein-gp-s000"]
    assert (gp["lr"], gp["d_norm"], gp["wasserstein-gp.gp_weight"]) == ("0.0001", "none", "10")
    assert values["dcgan-nonsaturating-s001"] != values["dcgan-nonsaturating-s000"]


def test_a_sample_is_judged_by_its_best_value_over_its_checkpoints_or_its_final_one():
    """compare_gan keeps each sample's best FID over all its checkpoints; the final value is an option, labelled."""
    import pandas as pd

    from ganzoo import report

    def rows(run, values):
        base = {"run_id": run, "variant": run, "divergence": "minimax", "dataset": "d", "split": "all", "seed": 0}
        scores = [{**base, "step": step, "metric": "fid", "value": v, "detail": ""} for step, v in values]
        return [*scores, {**base, "step": values[-1][0], "metric": "status", "value": 1.0, "detail": "ok"}]

    # a: best 5 at step 10, ends at 30; b: steady, ends at 20; the untrained generator's 1.0 is no result
    df = pd.DataFrame(rows("a", [(0, 1.0), (10, 5.0), (20, 30.0)]) + rows("b", [(0, 1.0), (10, 25.0), (20, 20.0)]))
    df["settings"], df["budget"], df["features"], df["images_seen"], df["device_seconds"] = "", "20steps", "", 0, 0.0
    runs = {
        r: {"variant": "gan", "divergence": "minimax", "sample": i, "values": {"lr": str(i)}}
        for i, r in enumerate("ab")
    }
    manifest = {"config": {"sweep": {"runs": runs}}, "metric_directions": {"fid": "lower"}}
    best = report.sweep_best(df, manifest, "fid")
    assert (best["best sample"].iloc[0], best["best"].iloc[0]) == ("a", 5.0)
    assert best["select"].iloc[0] == "best over its evaluation points"
    final = report.sweep_best(df, manifest, "fid", select="final")
    assert (final["best sample"].iloc[0], final["best"].iloc[0], final["select"].iloc[0]) == ("b", 20.0, "final value")


def test_lucic_mnist_trains_20_epochs_reruns_the_best_over_50_seeds_and_carries_the_published_rows():
    """compare_gan: 20 epochs of 50,000 MNIST images at batch 64 (15,625 steps; before: 1,200 kimg, 18,750 steps),
    a checkpoint every 5 epochs, then phase 3: the best setting over 50 seeds; the published best FIDs are those of
    ../shared/published/lucic2018-best-fid.csv, each '± as published'."""
    import csv

    from conftest import REPO

    from ganzoo import presets

    pr = presets.get("lucic-mnist")
    assert (pr.options["budget"], pr.options["eval_every"], pr.rerun_seeds) == ("15625steps", "3906steps", 50)
    assert pr.sweep == ("lucic-wide", 100) and "0-49" in pr.protocol
    shared = REPO.parent / "shared" / "published" / "lucic2018-best-fid.csv"
    if not shared.is_file():
        pytest.skip(f"{shared} is not beside this checkout")
    names = {
        "MM GAN": "minimax",
        "NS GAN": "nonsaturating",
        "LSGAN": "least-squares",
        "WGAN": "wasserstein",
        "WGAN GP": "wasserstein-gp",
    }
    for dataset in ("mnist", "fashion-mnist", "cifar10", "celeba"):
        rows = {(p.variant, p.metric): (p.mean, p.se, p.spread) for p in presets.get(f"lucic-{dataset}").published}
        expected = {
            (f"lucic-gan-{names[r['loss']]}-best", "fid"): (
                float(r["fid"]),
                float(r["spread"]) if r["spread"] else None,  # a spread the quoting papers disagree on: left out
                "as published",
            )
            for r in csv.DictReader(shared.open())
            if r["dataset"] == dataset and r["loss"] in names and r["fid"]  # a value they disagree on: left out
        }
        assert rows == expected, dataset


def test_a_spread_the_paper_does_not_define_is_shown_not_tested(tmp_path):
    """Lucic et al.'s '±' is not defined by the papers that quote it: ganzoo's row stands beside it with
    '± as published', never a verdict; a standard error (PacGAN's) still gets its test."""
    import pandas as pd

    from ganzoo import report
    from ganzoo.results import COLUMNS

    rows = []
    for seed, fid in ((0, 9.0), (1, 9.4)):
        run = f"dcgan-minimax-best-minimax-s{seed}"
        base = {c: "" for c in COLUMNS} | {
            "run_id": run,
            "variant": "dcgan-minimax-best",
            "divergence": "minimax",
            "dataset": "mnist",
            "split": "train",
            "seed": seed,
            "images_seen": 0,
            "device_seconds": 0.0,
            "budget": "4steps",
            "step": 4,
        }
        rows += [base | {"metric": "fid", "value": fid}, base | {"metric": "status", "value": 1.0, "detail": "ok"}]
    out = tmp_path / "best"
    out.mkdir()
    pd.DataFrame(rows, columns=COLUMNS).to_csv(out / "results.csv", index=False)
    published = [
        {
            "variant": "dcgan-minimax-best",
            "metric": "fid",
            "mean": 9.8,
            "se": 0.9,
            "source": "Lucic",
            "dataset": "mnist",
            "spread": "as published",
        },
        {
            "variant": "dcgan-minimax-best",
            "metric": "fid",
            "mean": 9.3,
            "se": 0.1,
            "source": "a paper's s.e.",
            "dataset": "mnist",
        },  # written before the spread was recorded: a standard error
    ]
    (out / "bench.json").write_text(
        json.dumps({"config": {}, "preset": {"name": "lucic-mnist", "overrides": [], "published": published}})
    )
    t = report.published([out]).set_index("source")
    assert t.loc["Lucic", "verdict"] == "± as published" and np.isnan(t.loc["Lucic", "distance_se"])
    # written before margins were kept: no margin, so no verdict, but the distance
    assert t.loc["a paper's s.e.", "verdict"] == "no margin stated" and t.loc["a paper's s.e.", "distance_se"] > 0


def test_a_sweep_builds_each_distinct_network_once_and_still_checks_every_draws_loop_values(monkeypatch):
    """Lucic's draws differ mostly in learning rate, betas and D steps: the build and its training step run once
    per distinct remaining values (DCGAN's d_norm: two), yet a draw whose beta1 Adam refuses is refused each time
    (the wrong version remembers the structure's verdict and lets it through)."""
    import ganzoo.factory

    calls = []
    real = ganzoo.factory.create_variant
    monkeypatch.setattr(ganzoo.factory, "create_variant", lambda *a, **k: calls.append(1) or real(*a, **k))
    extra = {"beta1": Param("uniform", 0.5, 1.5)}
    config = expand(
        Sweep(["dcgan"], ["nonsaturating"], "lucic-wide", samples=12, seed=1, extra=extra),
        BenchConfig(dataset="digits"),
    )
    assert len(calls) <= 2
    refused = config.sweep["refused"]
    assert refused and all("beta1 must be in [0, 1)" in r["why"] for r in refused)
    assert all(float(v["beta1"]) < 1 for v in _values(config).values())


def test_the_planner_builds_each_distinct_network_once_yet_refuses_a_bad_value_under_any_label(tmp_path, monkeypatch):
    import ganzoo.plan

    calls = []
    real = ganzoo.plan.create_variant
    monkeypatch.setattr(ganzoo.plan, "create_variant", lambda *a, **k: calls.append(1) or real(*a, **k))
    base = [
        "bench",
        "--dataset",
        "ring8",
        "--budget",
        "2steps",
        "--variants",
        "a=gan,b=gan,c=gan",
        "--set",
        "a.lr=1e-3",
    ]
    bad = CliRunner().invoke(main, [*base, "--set", "b.lr=2e-3", "--set", "c.lr=-1", "--out", str(tmp_path / "o")])
    assert bad.exit_code == 2 and "lr must be a positive finite number, got -1" in bad.output, bad.output
    assert len(bad.output.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
    calls.clear()
    ok = CliRunner().invoke(main, [*base, "--set", "b.lr=2e-3", "--set", "c.lr=3e-3", "--out", str(tmp_path / "p")])
    assert ok.exit_code == 0, ok.output
    assert len(calls) == 1  # three labels, one network
