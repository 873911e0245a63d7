"""The command line, end to end, with CliRunner and budgets of a few steps."""

import io
import json

import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from ganzoo import registry
from ganzoo.cli import main
from ganzoo.results import COLUMNS, load_weights, read_results
from ganzoo_plugins.variants.gan import GAN


def bench(tmp_path, *args, out="out"):
    result = CliRunner().invoke(main, ["bench", "--out", str(tmp_path / out), *args])
    return result, tmp_path / out


def test_list_shows_every_kind_with_its_package():
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0, result.output
    for kind, name in [("variant", "dcgan"), ("dataset", "ring8"), ("divergence", "minimax"), ("metric", "fidelity")]:
        line = next(l for l in result.output.splitlines() if f" {name} " in l)
        assert kind in line and "ganzoo 0.1.0" in line


def test_bench_writes_tidy_results_configs_samples_and_weights(tmp_path):
    result, out = bench(tmp_path, "--variants", "gan,dcgan", "--budget", "4steps", "--eval-every", "2steps")
    assert result.exit_code == 0, result.output
    df = read_results(out)
    assert list(df.columns) == [*COLUMNS, "source"]
    assert set(df["run_id"]) == {"gan-minimax-s0", "dcgan-nonsaturating-s0"}
    fid = df[df.metric == "fid"]
    assert sorted(set(fid["step"])) == [0, 2, 4]  # start, every 2 steps, end
    assert (fid.groupby("run_id").size() == 3).all()
    assert (df[df.metric == "status"]["detail"] == "ok").all()
    at_end = df[(df.step == 4) & (df.metric == "fid")]
    assert (at_end["images_seen"] == 4 * 64).all() and (at_end["device_seconds"] > 0).all()
    assert {"loss_d", "loss_g", "divergence"} <= set(df.metric)
    run = out / "runs" / "dcgan-nonsaturating-s0"
    config = json.loads((run / "config.json").read_text())
    assert config["status"] == "ok" and config["dataset"]["split"] == "all" and config["budget"] == "4steps"
    assert torch.__version__.startswith(config["environment"]["versions"]["torch"])
    assert {"git_revision", "device", "python"} <= set(config["environment"]) and "started" in config
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step-0000000.png",
        "step-0000002.png",
        "step-0000004.png",
    ]
    weights = load_weights(run / "weights.pt")
    assert set(weights) == {"generators", "discriminators"} and "G" in weights["generators"]
    assert "final values, mean over finished runs" in result.output and "fid" in result.output


def test_same_seed_gives_the_same_numbers(tmp_path):
    frames = []
    for name in ("a", "b"):
        result, out = bench(tmp_path, "--variants", "dcgan", "--budget", "3steps", "--seeds", "2", out=name)
        assert result.exit_code == 0, result.output
        frames.append(read_results(out).drop(columns=["device_seconds", "source"]))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    by_seed = frames[0][frames[0].metric == "fid"].groupby("seed")["value"].apply(list)
    assert by_seed[0] != by_seed[1]  # seeds differ


def test_points_dataset_and_divergence_override(tmp_path):
    result, out = bench(
        tmp_path, "--variants", "gan", "--dataset", "ring8", "--divergence", "nonsaturating", "--budget", "2steps"
    )
    assert result.exit_code == 0, result.output
    df = read_results(out)
    assert set(df["divergence"]) == {"nonsaturating"}
    assert {"fid", "kid", "precision", "recall", "density", "coverage", "modes", "hq_share", "reverse_kl"} <= set(
        df.metric
    )


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--variants", "dcgn"], "did you mean 'dcgan'"),
        (["--dataset", "mnits"], "did you mean 'mnist'"),
        (["--divergence", "minmax"], "did you mean 'minimax'"),
        (["--budget", "300x"], "invalid budget '300x'"),
        (["--eval-every", "often"], "invalid budget 'often'"),
        (["--variants", "dcgan", "--dataset", "ring8"], "variant 'dcgan' cannot run on dataset 'ring8'"),
        (["--device", "tpu"], "invalid device 'tpu'"),
        (["--split", "train"], "no split 'train'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, needle):
    result, out = bench(tmp_path, *args)
    assert result.exit_code == 2, result.output
    lines = [l for l in result.output.splitlines() if l.strip()]
    assert len(lines) == 1 and needle in lines[0], result.output
    assert not out.exists()


def test_out_holding_another_bench_is_refused_unless_forced(tmp_path):
    first, out = bench(tmp_path, "--variants", "gan", "--budget", "1steps")
    assert first.exit_code == 0
    before = (out / "results.csv").read_bytes()
    again, _ = bench(tmp_path, "--variants", "dcgan", "--budget", "1steps")
    assert (
        again.exit_code == 2 and "already holds another bench's results" in again.output and "--force" in again.output
    )
    assert (out / "results.csv").read_bytes() == before
    forced, _ = bench(tmp_path, "--variants", "dcgan", "--budget", "1steps", "--force")
    assert forced.exit_code == 0
    assert set(read_results(out)["variant"]) == {"dcgan"} and not (out / "runs" / "gan-minimax-s0").exists()


class Exploding(GAN):
    """Fails at its third generator step, after an evaluation has been recorded."""

    calls = 0

    def generator_loss(self, batch):
        Exploding.calls += 1
        if Exploding.calls == 3:
            raise RuntimeError("boom at step 3")
        return super().generator_loss(batch)


def test_failed_run_is_recorded_and_the_others_go_on(tmp_path, fresh_registries):
    registry.variants.register("exploding", Exploding)
    result, out = bench(tmp_path, "--variants", "exploding,gan", "--budget", "4steps", "--eval-every", "2steps")
    assert result.exit_code == 1
    df = read_results(out)
    status = df[df.metric == "status"].set_index("variant")
    assert status.loc["exploding", "value"] == 0 and "RuntimeError: boom at step 3" in status.loc["exploding", "detail"]
    assert status.loc["exploding", "step"] == 2  # the last point it reached
    assert status.loc["gan", "value"] == 1
    run = out / "runs" / "exploding-minimax-s0"
    assert "boom at step 3" in (run / "error.txt").read_text()
    assert json.loads((run / "config.json").read_text())["status"] == "failed"


def test_seconds_budget_stops_on_device_time(tmp_path):
    result, out = bench(tmp_path, "--variants", "gan", "--budget", "1s")
    assert result.exit_code == 0, result.output
    end = read_results(out).query("metric == 'fid'")["device_seconds"].max()
    assert 1.0 <= end < 2.0


def test_evaluation_does_not_change_the_training_trajectory(tmp_path):
    finals = []
    for name, every in (("often", "1steps"), ("rarely", "4steps")):
        result, out = bench(tmp_path, "--variants", "dcgan", "--budget", "4steps", "--eval-every", every, out=name)
        assert result.exit_code == 0, result.output
        df = read_results(out)
        finals.append(df.query("metric == 'fid' and step == 4")["value"].item())
    assert finals[0] == finals[1]


def test_missing_dataset_files_are_an_input_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result, out = bench(tmp_path, "--dataset", "mnist", "--data-dir", str(tmp_path / "empty"), "--no-download")
    assert result.exit_code == 2 and "could not be loaded" in result.output and "--data-dir" in result.output
    assert not out.exists()


def test_list_reports_a_broken_plugin_and_still_lists_the_others(install_dist):
    install_dist(
        "thirdparty-broken",
        {"thirdparty_broken": "raise ImportError('needs libfoo')\n"},
        {"ganzoo.variants": {"broken": "thirdparty_broken:X"}},
    )
    result = CliRunner().invoke(main, ["list", "--kind", "variants"])
    assert result.exit_code == 0
    broken = next(l for l in result.output.splitlines() if " broken " in l)
    assert "thirdparty-broken 1.2.3" in broken and "needs libfoo" in result.output
    assert "thirdparty_broken.py:1" in result.output.replace("\n", "").replace(" ", "").replace(
        "│", ""
    )  # file and line
    assert any(" dcgan " in l for l in result.output.splitlines())


def test_inception_offline_fails_before_training_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    result, out = bench(tmp_path, "--variants", "dcgan", "--features", "inception", "--budget", "2steps")
    assert result.exit_code == 2 and "--inception-weights" in result.output
    assert not out.exists()


def test_trained_generator_beats_the_untrained_one_on_digits(tmp_path):
    result, out = bench(tmp_path, "--variants", "dcgan", "--budget", "300steps", "--eval-every", "300steps")
    assert result.exit_code == 0, result.output
    df = read_results(out)
    fid = df[df.metric == "fid"].set_index("step")["value"]
    assert fid[300] < fid[0] / 3, fid.to_dict()
    recall = df[df.metric == "recall"].set_index("step")["value"]
    cover = df[df.metric == "coverage"].set_index("step")["value"]
    assert recall[300] >= recall[0] and cover[300] > cover[0]
    row = df[(df.metric == "fid") & (df.step == 300)].iloc[0]
    assert row.features == "classifier" and row.generated_images == 898  # as many as the reference: the half held out
    assert row.reference == "digits/all, 898 held out from the feature classifier (trained on the other 899)"


def test_variant_by_divergence_grid_gives_one_row_per_pair(tmp_path):
    divs = "minimax,nonsaturating,wasserstein-gp,least-squares,hinge"
    result, out = bench(tmp_path, "--variants", "dcgan,vae", "--divergences", divs, "--budget", "2steps")
    assert result.exit_code == 0, result.output
    df = read_results(out)
    pairs = set(map(tuple, df[df.metric == "status"][["variant", "divergence"]].values))
    assert pairs == {("dcgan", d) for d in divs.split(",")} | {("vae", "none")}
    t = CliRunner().invoke(main, ["table", str(out), "--metrics", "fid", "--format", "csv"])
    assert t.exit_code == 0 and len(pd.read_csv(io.StringIO(t.output))) == 6


@pytest.mark.parametrize(
    "given, seeds", [("2", [0, 1]), ("0,3,7", [0, 3, 7]), ("10-12", [10, 11, 12]), ("0,5-6", [0, 5, 6])]
)
def test_seeds_take_a_count_a_list_or_a_range(tmp_path, given, seeds):
    result, out = bench(tmp_path, "--variants", "gan", "--budget", "1steps", "--seeds", given)
    assert result.exit_code == 0, result.output
    assert sorted(read_results(out)["seed"].unique()) == seeds


@pytest.mark.parametrize("given", ["0", "3-1", "a", "1,1", "2-"])
def test_bad_seeds_are_one_line_exit_2(tmp_path, given):
    result, out = bench(tmp_path, "--variants", "gan", "--budget", "1steps", "--seeds", given)
    assert result.exit_code == 2 and "--seeds" in result.output and len(result.output.strip().splitlines()) == 1, (
        result.output
    )
    assert not out.exists()
