"""Faults run for real: benches killed with SIGKILL during training and during an evaluation and resumed,
Ctrl-C, two benches on one folder, a plugin whose loss turns NaN, corrupt caches, a malicious pickle,
an unsafe plugin name, and the bad inputs that must end in one line and exit code 2."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from test_data import write_idx

from ganzoo import registry
from ganzoo.cli import main
from ganzoo.results import load_weights, read_results

BENCH = ["--variants", "gan", "--seeds", "2", "--budget", "120steps", "--eval-every", "40steps"]
# a metric that leaves a mark while it evaluates a chosen step and takes its time there, so a test can kill
# the bench during that evaluation
SLOW_METRIC = """
import os, time
from pathlib import Path
from ganzoo import Metric

class Slow(Metric):
    description = "a constant, slow at one step"
    directions = {"slow": "lower"}
    calls = 0

    @property
    def num_samples(self):
        return 64

    def compute(self, samples):
        Slow.calls += 1
        mark = os.environ.get("SLOW_MARK")
        if mark and Slow.calls == int(os.environ["SLOW_CALL"]):
            Path(mark).write_text("evaluating")
            time.sleep(30)
        return {"slow": 1.0}
"""


@pytest.fixture(scope="module")
def slow_plugin(tmp_path_factory):
    root = tmp_path_factory.mktemp("site-slow")
    (root / "slowmetric.py").write_text(SLOW_METRIC)
    info = root / "slowmetric-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: slowmetric\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ganzoo.metrics]\nslow = slowmetric:Slow\n")
    return root


def ganzoo(args, env_extra, *, wait=True):
    env = {**os.environ, **env_extra}
    cmd = [sys.executable, "-m", "ganzoo", *args]
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def signal_when(args, env, ready, sig):
    """Start ``ganzoo args`` in a subprocess, wait until ``ready()``, send it ``sig``; returns the process."""
    proc = ganzoo(args, env, wait=False)
    wait_for(ready)
    proc.send_signal(sig)
    return proc


def wait_for(predicate, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError


def rows_of(folder):
    df = read_results(folder)
    return df[["run_id", "step", "images_seen", "metric", "value", "detail"]].reset_index(drop=True)


def has_step(folder, run_id, step):
    try:
        df = read_results(folder)
    except Exception:
        return False
    return bool(((df.run_id == run_id) & (df.step >= step)).any())


@pytest.fixture(scope="module")
def uninterrupted(slow_plugin, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "full"
    env = {"PYTHONPATH": str(slow_plugin)}
    result = ganzoo(["bench", *BENCH, "--out", str(out)], env)
    assert result.returncode == 0, result.stderr
    return out, env


def assert_same_bench(a, b):
    pd.testing.assert_frame_equal(rows_of(a), rows_of(b))
    for run in ("gan-minimax-s0", "gan-minimax-s1"):
        wa, wb = load_weights(a / "runs" / run / "weights.pt"), load_weights(b / "runs" / run / "weights.pt")
        for player in wa:
            for net in wa[player]:
                for k, v in wa[player][net].items():
                    assert torch.equal(v, wb[player][net][k]), (run, net, k)


def test_kill_9_in_training_and_in_an_evaluation_then_resume_equals_the_uninterrupted_bench(uninterrupted, tmp_path):
    full, env = uninterrupted
    out = tmp_path / "killed"
    # 1: SIGKILL while seed 0 trains past its first checkpoint (step 40)
    signal_when(
        ["bench", *BENCH, "--out", str(out)], env, lambda: has_step(out, "gan-minimax-s0", 40), signal.SIGKILL
    ).wait()
    config = json.loads((out / "runs" / "gan-minimax-s0" / "config.json").read_text())
    assert config["status"] == "running"  # what a killed process leaves
    # 2: resume; SIGKILL again in the middle of an evaluation of seed 1
    mark = tmp_path / "evaluating"
    signal_when(
        ["bench", "--resume", str(out)], {**env, "SLOW_MARK": str(mark), "SLOW_CALL": "3"}, mark.exists, signal.SIGKILL
    ).wait()
    # 3: resume to the end
    result = ganzoo(["bench", "--resume", str(out)], env)
    assert result.returncode == 0, result.stderr
    assert "took over the stale lock" in result.stderr
    assert_same_bench(full, out)
    bench = json.loads((out / "bench.json").read_text())
    assert bench["status"] == "finished" and len(bench["resumed"]) == 2
    assert not list(out.glob("runs/*/checkpoint.pt"))  # finished trials keep weights, not checkpoints


def test_ctrl_c_checkpoints_says_how_to_resume_and_exits_130(uninterrupted, tmp_path):
    full, env = uninterrupted
    out = tmp_path / "interrupted"
    proc = signal_when(
        ["bench", *BENCH, "--out", str(out)], env, lambda: has_step(out, "gan-minimax-s0", 40), signal.SIGINT
    )
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "ganzoo bench --resume" in stderr
    df = read_results(out)
    status = df[df.metric == "status"].iloc[-1]
    assert status["detail"].startswith("interrupted at step") and status["value"] == 0 and status["step"] > 0
    assert json.loads((out / "bench.json").read_text())["status"] == "interrupted"
    assert (out / "runs" / status["run_id"] / "checkpoint.pt").exists()
    result = ganzoo(["bench", "--resume", str(out)], env)
    assert result.returncode == 0, result.stderr
    assert_same_bench(full, out)


def test_sigterm_checkpoints_and_exits_143(slow_plugin, tmp_path):
    out = tmp_path / "terminated"
    proc = signal_when(
        ["bench", *BENCH, "--out", str(out)],
        {"PYTHONPATH": str(slow_plugin)},
        lambda: has_step(out, "gan-minimax-s0", 40),
        signal.SIGTERM,
    )
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "SIGTERM" in read_results(out).query("metric == 'status'").iloc[-1]["detail"]
    assert json.loads((out / "bench.json").read_text())["status"] == "interrupted"


def test_a_second_bench_on_a_folder_in_use_is_refused_with_its_holder(slow_plugin, tmp_path):
    out = tmp_path / "busy"
    env = {"PYTHONPATH": str(slow_plugin), "SLOW_MARK": str(tmp_path / "mark"), "SLOW_CALL": "1"}
    proc = ganzoo(["bench", *BENCH, "--out", str(out)], env, wait=False)
    try:
        wait_for((tmp_path / "mark").exists)
        for extra in ([], ["--force"]):
            result = CliRunner().invoke(
                main, ["bench", "--variants", "gan", "--budget", "2steps", "--out", str(out), *extra]
            )
            assert result.exit_code == 2, result.output
            assert "being written by another bench" in result.output and f"pid {proc.pid}" in result.output
        resume = CliRunner().invoke(main, ["bench", "--resume", str(out)])
        assert resume.exit_code == 2 and "being written by another bench" in resume.output
    finally:
        proc.kill()
        proc.wait()


def test_force_clears_an_old_bench_only_after_planning(tmp_path):
    out = tmp_path / "old"
    assert (
        CliRunner().invoke(main, ["bench", "--variants", "gan", "--budget", "2steps", "--out", str(out)]).exit_code == 0
    )
    bad = CliRunner().invoke(main, ["bench", "--variants", "gan", "--budget", "2parsecs", "--out", str(out), "--force"])
    assert (
        bad.exit_code == 2
        and (out / "results.csv").exists()
        and (out / "runs" / "gan-minimax-s0" / "weights.pt").exists()
    )


class NaNLater(registry.variants.get("gan")):
    """GAN whose G loss turns NaN at step 7."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls = 0

    def generator_loss(self, batch):
        out = super().generator_loss(batch)
        self.calls += 1
        if self.calls >= 7:
            out.losses["adv"] = out.losses["adv"] * float("nan")
        return out


def test_a_non_finite_loss_stops_the_run_within_ten_steps_and_names_the_step(tmp_path, fresh_registries):
    registry.variants.register("nanlater", NaNLater)
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--variants",
            "nanlater,gan",
            "--budget",
            "500steps",
            "--eval-every",
            "250steps",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    df = read_results(tmp_path / "o")
    status = df[df.metric == "status"].set_index("run_id")
    failed = status.loc["nanlater-minimax-s0"]
    assert failed["value"] == 0 and failed["step"] == 10 and "non-finite loss by step 10" in failed["detail"]
    assert failed["images_seen"] == 10 * 64  # where it stopped, not 0
    assert status.loc["gan-minimax-s0", "detail"] == "ok"  # the others go on


def test_corrupt_cached_classifier_and_features_are_rebuilt_saying_so(tmp_path):
    cache = tmp_path / "cache"
    args = ["bench", "--variants", "gan", "--budget", "2steps", "--cache-dir", str(cache)]
    assert CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")]).exit_code == 0
    before = read_results(tmp_path / "a")
    for f in [*cache.glob("classifiers/*.pt"), *cache.glob("features/*.pt")]:
        f.write_bytes(f.read_bytes()[:100])  # truncated
    wrong = next(cache.glob("features/*.pt"))
    torch.save(torch.zeros(3, 2, dtype=torch.float64), wrong)  # the wrong shape
    with pytest.warns(UserWarning, match="cannot be used"):
        result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    after = read_results(tmp_path / "b")
    fid = lambda df: df[df.metric == "fid"]["value"].tolist()  # noqa: E731
    assert fid(after) == pytest.approx(fid(before))


class _Boom:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_malicious_pickle_in_the_cache_never_runs(tmp_path):
    from ganzoo.metrics import features

    digits = registry.datasets.get("digits").load(name="digits", data_dir=None, split="auto", download=False)
    state = {"fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)}
    weights = tmp_path / "inception.pth"
    torch.save(state, weights)
    cache = tmp_path / "cache"
    sha = features.file_sha256(weights)
    marker = tmp_path / "pwned"
    for target in (cache / "inception" / f"{sha[:16]}.pt", cache / "classifiers" / "x.pt"):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pickle.dumps({"fc.weight": _Boom(marker)}, protocol=2))
    from ganzoo.metrics.classifier import load_classifier

    with pytest.raises(pickle.UnpicklingError):  # refused by weights_only=True, never run
        load_classifier(cache / "classifiers" / "x.pt")
    with pytest.warns(UserWarning, match="cannot be used"):
        space = features.inception_space(weights, cache)
    assert not marker.exists()
    # what torch-fidelity is given is a fresh private copy, never the cached file
    (cache / "inception" / f"{sha[:16]}.pt").write_bytes(pickle.dumps({"fc.weight": _Boom(marker)}, protocol=2))
    with pytest.raises(features.FeatureSpaceError):
        space.extract(digits.x[:2], torch.device("cpu"))
    assert not marker.exists()


def test_a_plugin_name_that_is_a_path_is_refused(install_dist, tmp_path):
    install_dist(
        "thirdparty-evil",
        {"thirdparty_evil": "from ganzoo_plugins.variants.gan import GAN as Evil\n"},
        {"ganzoo.variants": {"../../escape": "thirdparty_evil:Evil"}},
    )
    entry = registry.variants.entry("../../escape")
    assert entry.error and "unsafe name" in entry.error
    out = tmp_path / "o" / "p"  # its runs/../../escape-minimax-s0 would land in tmp_path / "o"
    result = CliRunner().invoke(main, ["bench", "--budget", "1steps", "--variants", "../../escape", "--out", str(out)])
    assert result.exit_code == 2 and "unsafe name" in result.output
    assert not list(tmp_path.rglob("escape*"))


def test_a_new_bench_says_when_it_takes_over_a_stale_lock(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / ".ganzoo.lock").write_text(json.dumps({"host": "elsewhere", "pid": 999999, "started": "2026-01-01"}))
    result = CliRunner().invoke(main, ["bench", "--variants", "gan", "--budget", "1steps", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "took over the stale lock" in result.output and "pid 999999" in result.output


def test_result_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert (
            CliRunner()
            .invoke(main, ["bench", "--variants", "gan", "--budget", "2steps", "--out", str(tmp_path / "o")])
            .exit_code
            == 0
        )
    finally:
        os.umask(old)
    for name in ("results.csv", "bench.json", "runs/gan-minimax-s0/config.json", "runs/gan-minimax-s0/weights.pt"):
        assert (tmp_path / "o" / name).stat().st_mode & 0o777 == 0o644, name


def _mnist_dir(tmp_path, images=None, labels=None, corrupt=False):
    d = tmp_path / "mnist"
    d.mkdir()
    imgs = np.zeros((4, 28, 28), np.uint8) if images is None else images
    labs = np.arange(4, dtype=np.uint8) if labels is None else labels
    write_idx(d / "t10k-images-idx3-ubyte.gz", imgs, True)
    write_idx(d / "t10k-labels-idx1-ubyte.gz", labs, True)
    if corrupt:
        raw = (d / "t10k-images-idx3-ubyte.gz").read_bytes()
        (d / "t10k-images-idx3-ubyte.gz").write_bytes(raw[: len(raw) // 2])
    return d


BAD_INPUT = {
    "truncated gz": (
        lambda t: ["--dataset", "mnist", "--no-download", "--data-dir", str(_mnist_dir(t, corrupt=True))],
        "not a readable gzip file",
    ),
    "no images": (
        lambda t: [
            "--dataset",
            "mnist",
            "--no-download",
            "--data-dir",
            str(_mnist_dir(t, np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))),
        ],
        "N > 0",
    ),
    "label 12": (
        lambda t: [
            "--dataset",
            "mnist",
            "--no-download",
            "--data-dir",
            str(_mnist_dir(t, labels=np.array([0, 1, 2, 12], np.uint8))),
        ],
        "labels in 0..9",
    ),
    "z_dim=-5": (lambda t: ["--set", "gan.z_dim=-5"], "z_dim"),
    "lr=nan": (lambda t: ["--set", "gan.lr=nan"], "lr must be"),
    "lr=-1": (lambda t: ["--set", "gan.lr=-1"], "lr must be"),
    "batch_size=0": (lambda t: ["--set", "gan.batch_size=0"], "batch_size"),
    "hidden=0": (lambda t: ["--set", "gan.hidden=0"], "G needs at least one hidden layer"),
    "ndf=0": (lambda t: ["--variants", "dcgan", "--set", "dcgan.ndf=0"], "one training step on stand-in data fails"),
    "unwritable out": (lambda t: ["--out", "/proc/ganzoo-test/out"], "--out '/proc/ganzoo-test/out' cannot be written"),
    "unwritable cache": (
        lambda t: ["--cache-dir", "/proc/ganzoo-test"],
        "--cache-dir '/proc/ganzoo-test' cannot be written",
    ),
    "resume a non-bench": (lambda t: ["--resume", str(t)], "no bench.json there"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_bench_input_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    make, needle = BAD_INPUT[case]
    args = make(tmp_path)
    out = [] if "--out" in args or "--resume" in args else ["--out", str(tmp_path / "out")]
    base = [] if "--resume" in args else ["--variants", "gan", "--budget", "2steps"]
    result = CliRunner().invoke(main, ["bench", *base, *out, *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], result.output
    assert not (tmp_path / "out").exists()


def _table_input(tmp_path, kind):
    from ganzoo.results import COLUMNS

    if kind == "header only":
        (tmp_path / "results.csv").write_text(",".join(COLUMNS) + "\n")
        return tmp_path, "no results yet"
    if kind == "bench.json broken":
        assert (
            CliRunner()
            .invoke(main, ["bench", "--variants", "gan", "--budget", "2steps", "--out", str(tmp_path / "b")])
            .exit_code
            == 0
        )
        (tmp_path / "b" / "bench.json").write_text("{not json")
        return tmp_path / "b", "bench.json: not a ganzoo bench.json"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["header only", "bench.json broken"])
def test_bad_table_input_is_one_line_exit_2(tmp_path, kind):
    path, needle = _table_input(tmp_path, kind)
    result = CliRunner().invoke(main, ["table", str(path)])
    assert result.exit_code == 2 and needle in result.output and len(result.output.strip().splitlines()) == 1, (
        result.output
    )


def test_table_of_all_failed_runs_says_so(tmp_path, fresh_registries):
    registry.variants.register("nanlater", NaNLater)
    CliRunner().invoke(main, ["bench", "--variants", "nanlater", "--budget", "20steps", "--out", str(tmp_path / "o")])
    result = CliRunner().invoke(main, ["table", str(tmp_path / "o"), "--format", "markdown"])
    assert result.exit_code == 0 and "0/1 ok, 1 failed" in result.output


def test_plot_to_an_unwritable_place_is_one_line_exit_2(tmp_path):
    assert (
        CliRunner()
        .invoke(main, ["bench", "--variants", "gan", "--budget", "2steps", "--out", str(tmp_path / "o")])
        .exit_code
        == 0
    )
    result = CliRunner().invoke(main, ["plot", str(tmp_path / "o"), "--out", "/proc/ganzoo-test/fig.png"])
    assert (
        result.exit_code == 2 and "cannot be written" in result.output and len(result.output.strip().splitlines()) == 1
    )


def test_resume_refuses_other_options_and_changed_code(tmp_path, monkeypatch):
    out = tmp_path / "o"
    assert (
        CliRunner().invoke(main, ["bench", "--variants", "gan", "--budget", "2steps", "--out", str(out)]).exit_code == 0
    )
    mixed = CliRunner().invoke(main, ["bench", "--resume", str(out), "--budget", "5steps"])
    assert (
        mixed.exit_code == 2 and "--resume takes no other bench options" in mixed.output and "--budget" in mixed.output
    )
    bench = json.loads((out / "bench.json").read_text())
    bench["code"]["plugins"]["variant:gan"]["source_sha256"] = "0" * 64
    (out / "bench.json").write_text(json.dumps(bench))
    changed = CliRunner().invoke(main, ["bench", "--resume", str(out)])
    assert (
        changed.exit_code == 2
        and "variant:gan: source code changed" in changed.output
        and "--allow-code-change" in changed.output
    )
    anyway = CliRunner().invoke(main, ["bench", "--resume", str(out), "--allow-code-change"])
    assert anyway.exit_code == 0, anyway.output


def test_a_seconds_budget_overrun_is_in_the_status_row(tmp_path, fresh_registries):
    class Slow(registry.variants.get("gan")):
        def generator_loss(self, batch):
            time.sleep(0.5)  # one step is longer than the whole budget
            return super().generator_loss(batch)

    registry.variants.register("slowgan", Slow)
    result = CliRunner().invoke(
        main, ["bench", "--variants", "slowgan", "--budget", "0.2s", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    status = read_results(tmp_path / "o").query("metric == 'status'").iloc[0]
    assert status["step"] == 1 and status["device_seconds"] >= 0.5
    assert "over the 0.2s budget" in status["detail"] and "longest step" in status["detail"], status.to_dict()


def test_cyclegan_resumed_mid_interval_equals_the_uninterrupted_trial(tmp_path):
    """A stop between evaluation points checkpoints the loss meter and CycleGAN's image buffers too."""
    from ganzoo.config import BenchConfig
    from ganzoo.evaluation import prepare_metrics
    from ganzoo.factory import load_data
    from ganzoo.plan import plan
    from ganzoo.trial import StopFlag, run_trial

    def trial(out, stop_at=None):
        config = BenchConfig(
            variants=["cyclegan"],
            dataset="digits-domains",
            budget="24steps",
            eval_every="12steps",
            out=out,
            settings={"cyclegan": {"batch_size": "8", "ngf": "8", "ndf": "8"}},
        )
        p = plan(config)
        data = load_data(config)
        metrics = prepare_metrics(data, p.device, p.cache_dir)
        rows, stop = [], StopFlag()

        def progress(spent, losses):
            if stop_at is not None and spent.steps >= stop_at:
                stop.signal = signal.SIGINT

        first = run_trial(p.runs[0], data, metrics, rows.extend, stop=stop, on_progress=progress)
        if stop_at is not None:
            assert first.status == "interrupted" and first.spent.steps == 10  # between the points at 0 and 12
            rows = [r for r in rows if r.metric != "status"]
            assert run_trial(p.runs[0], data, metrics, rows.extend).status == "ok"
        return rows, load_weights(out / "runs" / p.runs[0].run_id / "weights.pt")

    (rows_a, w_a), (rows_b, w_b) = trial(tmp_path / "a"), trial(tmp_path / "b", stop_at=10)
    key = lambda r: (r.step, r.metric, r.value)  # noqa: E731
    assert [key(r) for r in rows_a] == [key(r) for r in rows_b]
    for player in w_a:
        for net in w_a[player]:
            for k, v in w_a[player][net].items():
                assert torch.equal(v, w_b[player][net][k]), (net, k)


def test_an_ok_row_without_its_files_is_continued_on_resume_not_skipped(tmp_path):
    """A kill between a run's ok status row and its files reaching --out: --resume checks every finished
    run's files and continues one that lacks them from its checkpoint (or from the start without one)."""
    import shutil

    full = tmp_path / "full"
    assert CliRunner().invoke(main, ["bench", *BENCH, "--keep-checkpoints", "--out", str(full)]).exit_code == 0
    for case, drop_checkpoint in (("from-checkpoint", False), ("from-scratch", True)):
        out = tmp_path / case
        shutil.copytree(full, out)
        run = out / "runs" / "gan-minimax-s1"
        (run / "weights.pt").unlink()
        config = json.loads((run / "config.json").read_text())
        (run / "config.json").write_text(json.dumps({**config, "status": "running"}))
        if drop_checkpoint:
            (run / "checkpoint.pt").unlink()
        result = CliRunner().invoke(main, ["bench", "--resume", str(out)])
        assert result.exit_code == 0, result.output
        assert json.loads((run / "config.json").read_text())["status"] == "ok"
        assert_same_bench(full, out)


def test_a_trials_status_row_is_sent_after_its_files(tmp_path):
    from ganzoo.config import BenchConfig
    from ganzoo.evaluation import prepare_metrics
    from ganzoo.executor import execute, job_for
    from ganzoo.factory import load_data
    from ganzoo.plan import plan
    from ganzoo.trial import StopFlag

    config = BenchConfig(
        variants=["gan"], dataset="ring8", budget="4steps", eval_every="2steps", metrics=["modes"], out=tmp_path / "b"
    )
    p = plan(config)
    data = load_data(config)
    events = []
    execute(
        job_for(p.runs[0]), data, prepare_metrics(data, p.device, p.cache_dir, p.evaluation), events.append, StopFlag()
    )
    from ganzoo.events import FilesChanged, RowsWritten

    weights_at = next(i for i, e in enumerate(events) if isinstance(e, FilesChanged) and "weights.pt" in e.files)
    status_at = next(
        i for i, e in enumerate(events) if isinstance(e, RowsWritten) and any(r.metric == "status" for r in e.rows)
    )
    assert weights_at < status_at


def test_a_checkpoint_that_cannot_be_loaded_safely_restarts_the_trial_saying_so(tmp_path):
    from ganzoo.config import BenchConfig
    from ganzoo.evaluation import prepare_metrics
    from ganzoo.factory import load_data
    from ganzoo.plan import plan
    from ganzoo.trial import CheckpointWarning, run_trial

    config = BenchConfig(
        variants=["gan"], dataset="ring8", budget="4steps", eval_every="2steps", metrics=["modes"], out=tmp_path / "b"
    )
    p = plan(config)
    data = load_data(config)
    metrics = prepare_metrics(data, p.device, p.cache_dir, p.evaluation)
    for i, blob in enumerate((b"truncated", pickle.dumps({"format": 1}))):
        folder = tmp_path / f"run{i}"
        folder.mkdir()
        (folder / "checkpoint.pt").write_bytes(blob)
        with pytest.warns(CheckpointWarning, match="cannot be loaded safely|not a ganzoo checkpoint"):
            result = run_trial(p.runs[0], data, metrics, lambda rows: None, folder=folder)
        assert result.status == "ok" and result.spent.steps == 4


def test_a_refused_checkpoint_on_resume_is_one_line_naming_the_runs_own_file(tmp_path):
    """A resumed bench whose unfinished run holds a pickled checkpoint.pt: one line naming runs/<id>/checkpoint.pt
    and what happens (the trial starts again from step 0), no torch warning and no Python warning form before it
    (before: torch's pickle warning twice, then `file:line: CheckpointWarning:` naming a temporary copy)."""
    out = tmp_path / "b"
    assert CliRunner().invoke(main, ["bench", *BENCH, "--keep-checkpoints", "--out", str(out)]).exit_code == 0
    run = out / "runs" / "gan-minimax-s1"
    (run / "weights.pt").unlink()
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "status": "running"}))
    (run / "checkpoint.pt").write_bytes(pickle.dumps({"format": 1, "spent": {"steps": 80}}, protocol=2))
    result = CliRunner().invoke(main, ["bench", "--resume", str(out)])
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if "checkpoint.pt" in line]
    assert len(said) == 1 and str(run / "checkpoint.pt") in said[0] and "starts again from step 0" in said[0], said
    assert "CheckpointWarning" not in result.output and "weights_only" not in result.output.replace(said[0], "")
    assert "/tmp/ganzoo-" not in result.output and json.loads((run / "config.json").read_text())["status"] == "ok"


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir() or sys.platform != "linux", reason="reads /proc")
def test_pool_workers_end_when_their_driver_is_killed(tmp_path):
    """SIGKILL leaves the driver no time to shut its pool down: its workers notice and end, instead of waiting on
    their task queue for ever (a kill-and-resume loop would otherwise pile up idle processes)."""
    out = tmp_path / "b"
    proc = ganzoo(
        [
            "bench",
            "--variants",
            "gan",
            "--dataset",
            "ring8",
            "--metrics",
            "modes",
            "--seeds",
            "2",
            "--budget",
            "4000steps",
            "--executor",
            "pool",
            "--workers",
            "2",
            "--threads",
            "1",
            "--out",
            str(out),
        ],
        {},
        wait=False,
    )
    # both trials at their first evaluation: both workers have imported ganzoo and watch their parent (a worker still
    # importing torch watches nothing yet, and ends only once it gets that far)
    wait_for(lambda: has_step(out, "gan-minimax-s0", 0) and has_step(out, "gan-minimax-s1", 0), timeout=300)
    workers = [
        c
        for c in _children(proc.pid)
        if "spawn_main(" in Path(f"/proc/{c}/cmdline").read_text(errors="ignore")
        and "resource_tracker" not in Path(f"/proc/{c}/cmdline").read_text(errors="ignore")
    ]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    wait_for(lambda: not any(_alive(w) for w in workers), timeout=30)
    assert workers and not any(_alive(w) for w in workers)
