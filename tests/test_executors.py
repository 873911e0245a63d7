"""Executors: the same trials give the same results whatever ran them (in-process, a local pool of
worker processes, Ray), a worker that dies mid-trial is continued from its checkpoint, a failing trial
sits beside healthy ones, and a seconds budget on a shared device is refused."""

import importlib.util
import os
import sys
import textwrap

import pandas as pd
import pytest
from click.testing import CliRunner

from ganzoo import registry
from ganzoo.cli import main
from ganzoo.results import load_weights, read_results

# threads per trial fixed: torch's CPU kernels sum in a thread-count-dependent order
BENCH = [
    "--variants",
    "gan,dcgan",
    "--seeds",
    "0,1",
    "--budget",
    "30steps",
    "--eval-every",
    "10steps",
    "--threads",
    "1",
]
PLUGIN = '''
import os
from pathlib import Path
from ganzoo_plugins.variants.gan import GAN

class DiesOnce(GAN):
    """GAN whose worker process dies (as with kill -9) at its 15th G update, unless the marker exists."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls = 0

    def generator_loss(self, batch):
        self.calls += 1
        mark = Path(os.environ["GANZOO_TEST_DIED"])
        if self.calls == 15 and not mark.exists():
            mark.write_text("died")
            os._exit(9)
        return super().generator_loss(batch)

class Broken(GAN):
    def generator_loss(self, batch):
        raise RuntimeError("this plugin is broken")
'''


def bench(out, *args):
    result = CliRunner().invoke(main, ["bench", "--out", str(out), *args])
    assert result.exit_code in (0, 1), result.output
    return result


def same_results(a, b):
    cols = ["run_id", "step", "images_seen", "metric", "value", "detail"]
    pd.testing.assert_frame_equal(
        read_results(a)[cols].reset_index(drop=True), read_results(b)[cols].reset_index(drop=True)
    )
    for run in read_results(a)["run_id"].unique():
        wa, wb = load_weights(a / "runs" / run / "weights.pt"), load_weights(b / "runs" / run / "weights.pt")
        assert all(wa[p][n][k].equal(wb[p][n][k]) for p in wa for n in wa[p] for k in wa[p][n]), run


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("executors") / "in-process"
    bench(out, *BENCH)
    return out


def test_a_local_pool_gives_the_in_process_results_value_for_value(in_process, tmp_path):
    bench(tmp_path / "pool", *BENCH, "--workers", "2")
    same_results(in_process, tmp_path / "pool")
    config = (tmp_path / "pool" / "runs" / "gan-minimax-s1" / "config.json").read_text()
    assert '"workers": 2' in config and '"threads_per_trial": 1' in config


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason='needs Ray: pip install "ganzoo[ray]"')
def test_ray_tasks_give_the_in_process_results_value_for_value(ray_instance, in_process, tmp_path):
    bench(tmp_path / "ray", *BENCH, "--executor", "ray", "--workers", "2")
    same_results(in_process, tmp_path / "ray")


@pytest.fixture(scope="module")
def dying_plugin(tmp_path_factory):
    """A third-party package with a variant whose worker dies once, importable by this process, by pool
    workers (spawn copies sys.path) and by Ray workers (PYTHONPATH, set before the module's Ray instance
    starts); the marker path is fixed for the module because Ray workers keep the environment they
    started with."""
    root = tmp_path_factory.mktemp("site-thirdparty-dies")
    (root / "thirdparty_dies.py").write_text(textwrap.dedent(PLUGIN))
    info = root / "thirdparty_dies-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-dies\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(
        "[ganzoo.variants]\ndiesonce = thirdparty_dies:DiesOnce\nbroken = thirdparty_dies:Broken\n"
    )
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(str(root))
    mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
    mp.setenv("GANZOO_TEST_DIED", str(root / "died"))
    for reg in registry.REGISTRIES.values():
        reg._entries = None
    yield root / "died"
    mp.undo()
    sys.modules.pop("thirdparty_dies", None)
    for reg in registry.REGISTRIES.values():
        reg._entries = None


@pytest.fixture(scope="module")
def ray_instance(dying_plugin):
    """One local Ray instance for this module (the bench finds it started), with the dying plugin on
    its workers' path."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


DYING = ["--variants", "diesonce,broken", "--budget", "30steps", "--eval-every", "10steps", "--threads", "1"]


@pytest.fixture(scope="module")
def survived(dying_plugin, tmp_path_factory):
    """The reference: the same trials in-process, with the marker present so nothing dies."""
    out = tmp_path_factory.mktemp("dying") / "alone"
    dying_plugin.write_text("")
    bench(out, *DYING)
    dying_plugin.unlink()
    return read_results(out)


def check_continued(died, reference, out, result):
    assert died.exists(), result.output  # a worker did die
    df = read_results(out)
    status = df[df.metric == "status"].set_index("run_id")
    assert status.loc["diesonce-minimax-s0", "detail"] == "ok"
    assert "this plugin is broken" in status.loc["broken-minimax-s0", "detail"]
    cols = ["run_id", "step", "metric", "value"]
    pd.testing.assert_frame_equal(
        reference[reference.run_id == "diesonce-minimax-s0"][cols].reset_index(drop=True),
        df[df.run_id == "diesonce-minimax-s0"][cols].reset_index(drop=True),
    )
    died.unlink()


def test_a_pool_worker_that_dies_is_continued_from_its_checkpoint_beside_a_broken_trial(
    dying_plugin, survived, tmp_path
):
    result = bench(tmp_path / "pool", *DYING, "--workers", "2")
    check_continued(dying_plugin, survived, tmp_path / "pool", result)


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason='needs Ray: pip install "ganzoo[ray]"')
def test_a_ray_worker_that_dies_is_continued_from_its_checkpoint_beside_a_broken_trial(
    ray_instance, dying_plugin, survived, tmp_path
):
    result = bench(tmp_path / "ray", *DYING, "--executor", "ray", "--workers", "2")
    check_continued(dying_plugin, survived, tmp_path / "ray", result)


def test_a_seconds_budget_on_a_shared_device_is_refused_unless_allowed(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--variants",
            "gan",
            "--seeds",
            "2",
            "--budget",
            "5s",
            "--workers",
            "2",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2 and "not comparable" in result.output and "--allow-shared-device" in result.output
    assert not (tmp_path / "o").exists()


def test_workers_started_early_train_and_are_let_go_if_the_bench_ends_first(tmp_path, monkeypatch):
    """Where cores are left over, the pool's workers start while the driver prepares the metrics and wait for its
    cache; a bench that fails before its trials lets them go instead of leaving them waiting."""
    import time

    import ganzoo.executor as executor_module
    import ganzoo.runner as runner_module
    from ganzoo.config import BenchConfig
    from ganzoo.runner import run_bench

    monkeypatch.setattr(executor_module.os, "cpu_count", lambda: 16)
    started = []
    original = executor_module.LocalPool.prestart
    monkeypatch.setattr(executor_module.LocalPool, "prestart", lambda self: (started.append(1), original(self)))
    base = dict(variants=["gan"], seeds=[0, 1], budget="3steps", workers=2, threads=1)
    outcome = run_bench(BenchConfig(**base, out=tmp_path / "ok"))
    assert started and outcome.status == "finished"
    assert set(outcome.frame[outcome.frame.metric == "status"]["detail"]) == {"ok"}

    def broken(*args, **kwargs):
        raise RuntimeError("metrics could not be prepared")

    monkeypatch.setattr(runner_module, "prepare_metrics", broken)
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="could not be prepared"):
        run_bench(BenchConfig(**base, out=tmp_path / "broken"))
    assert time.perf_counter() - t0 < 60 and len(started) == 2
