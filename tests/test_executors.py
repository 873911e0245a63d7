"""Executors: the same trials give the same results whatever ran them (in-process, a local pool of
worker processes, Ray), a worker that dies mid-trial is continued from its checkpoint, a failing trial
sits beside healthy ones, and a seconds budget on a shared device is refused."""

import importlib.util

import pandas as pd
import pytest
from click.testing import CliRunner

from ganzoo.cli import main
from ganzoo.results import load_weights, read_results

# threads per trial fixed: torch's CPU kernels sum in a thread-count-dependent order
BENCH = ["--variants", "gan,dcgan", "--seeds", "0,1", "--budget", "30steps", "--eval-every", "10steps", "--threads", "1"]
PLUGIN = '''
import os
from pathlib import Path
from ganzoo_plugins.gan import GAN

class DiesOnce(GAN):
    """GAN whose worker process dies (as with kill -9) at its 15th G update, the first time only."""

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
    pd.testing.assert_frame_equal(read_results(a)[cols].reset_index(drop=True), read_results(b)[cols].reset_index(drop=True))
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
def test_ray_tasks_give_the_in_process_results_value_for_value(in_process, tmp_path):
    bench(tmp_path / "ray", *BENCH, "--executor", "ray", "--workers", "2")
    same_results(in_process, tmp_path / "ray")


def test_a_worker_that_dies_is_continued_from_its_checkpoint_and_a_broken_trial_sits_beside(install_dist, tmp_path, monkeypatch):
    install_dist("thirdparty-dies", {"thirdparty_dies": PLUGIN},
                 {"ganzoo.variants": {"diesonce": "thirdparty_dies:DiesOnce", "broken": "thirdparty_dies:Broken"}})
    args = ["--variants", "diesonce,broken", "--budget", "30steps", "--eval-every", "10steps", "--threads", "1"]
    monkeypatch.setenv("GANZOO_TEST_DIED", str(tmp_path / "already-died"))
    (tmp_path / "already-died").write_text("")
    bench(tmp_path / "alone", *args)  # the reference: the marker exists, so nothing dies
    monkeypatch.setenv("GANZOO_TEST_DIED", str(tmp_path / "died"))
    result = bench(tmp_path / "pool", *args, "--workers", "2")
    assert (tmp_path / "died").exists(), result.output  # a worker did die
    df = read_results(tmp_path / "pool")
    status = df[df.metric == "status"].set_index("run_id")
    assert status.loc["diesonce-minimax-s0", "detail"] == "ok"
    assert "this plugin is broken" in status.loc["broken-minimax-s0", "detail"]
    a, b = read_results(tmp_path / "alone"), df
    cols = ["run_id", "step", "metric", "value"]
    pd.testing.assert_frame_equal(a[a.run_id == "diesonce-minimax-s0"][cols].reset_index(drop=True),
                                  b[b.run_id == "diesonce-minimax-s0"][cols].reset_index(drop=True))


def test_a_seconds_budget_on_a_shared_device_is_refused_unless_allowed(tmp_path):
    result = CliRunner().invoke(main, ["bench", "--variants", "gan", "--seeds", "2", "--budget", "5s", "--workers", "2",
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not comparable" in result.output and "--allow-shared-device" in result.output
    assert not (tmp_path / "o").exists()
