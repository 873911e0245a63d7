"""A broken plugin is named, not a traceback: a metric that raises becomes its own failure row while the
run and the other metrics go on; a dataset or metric that cannot be set up is one line naming the plugin
and its package (exit 2); the default bench says which variants it left out and why."""

from click.testing import CliRunner

from ganzoo.cli import main
from ganzoo.config import BenchConfig
from ganzoo.plan import plan
from ganzoo.results import read_results

PLUGINS = """
import torch
from ganzoo import Data, DataKind, Dataset, DatasetInfo, Metric

class Boom(Metric):
    directions = {"boom": "lower"}

    def compute(self, samples):
        raise RuntimeError("boom at evaluation")

class BadSetup(Metric):
    def __init__(self, **kw):
        super().__init__(**kw)
        {}["missing"]

    def compute(self, samples):
        return {}

class BadLoad(Dataset):
    info = DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(2,), bounded=False)

    @classmethod
    def load(cls, *, name, data_dir, split, download):
        return [][1]
"""


def bench(tmp_path, *args):
    out = tmp_path / "out"
    return CliRunner().invoke(main, ["bench", "--budget", "2steps", "--out", str(out), *args]), out


def test_a_metric_that_raises_is_a_failure_row_and_the_run_goes_on(install_dist, tmp_path):
    install_dist(
        "thirdparty-metrics", {"thirdparty_metrics": PLUGINS}, {"ganzoo.metrics": {"boom": "thirdparty_metrics:Boom"}}
    )
    result, out = bench(tmp_path, "--variants", "gan", "--dataset", "ring8")
    assert result.exit_code == 0, result.output
    df = read_results(out)
    errors = df[df.metric == "error_boom"]
    assert (
        len(errors) == df[df.metric == "modes"]["step"].nunique() and errors["value"].isna().all()
    )  # every evaluation point
    detail = errors["detail"].iloc[0]
    assert "'boom'" in detail and "thirdparty-metrics 1.2.3" in detail and "RuntimeError: boom at evaluation" in detail
    assert "thirdparty_metrics.py:9" in detail  # the line that raised
    assert {"modes", "hq_share"} <= set(df.metric) and df[df.metric == "status"]["detail"].iloc[0] == "ok"
    assert "boom at evaluation" in result.output
    table = CliRunner().invoke(main, ["table", str(out), "--format", "csv"])
    assert table.exit_code == 0 and "error_boom" not in table.output  # failures are not scores


def test_a_metric_that_cannot_be_set_up_is_one_line_naming_it(install_dist, tmp_path):
    install_dist(
        "thirdparty-metrics",
        {"thirdparty_metrics": PLUGINS},
        {"ganzoo.metrics": {"badsetup": "thirdparty_metrics:BadSetup"}},
    )
    result, out = bench(tmp_path, "--variants", "gan", "--dataset", "ring8")
    lines = [
        line for line in result.output.splitlines() if line.startswith("Error")
    ]  # after the bench's progress lines
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "metric 'badsetup'" in lines[0] and "thirdparty-metrics 1.2.3" in lines[0] and "KeyError" in lines[0]
    assert not (out / "runs").exists()


def test_a_dataset_that_fails_to_load_is_one_line_naming_it(install_dist, tmp_path):
    install_dist(
        "thirdparty-data", {"thirdparty_data": PLUGINS}, {"ganzoo.datasets": {"badload": "thirdparty_data:BadLoad"}}
    )
    result, out = bench(tmp_path, "--variants", "gan", "--dataset", "badload")
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "dataset 'badload'" in lines[0] and "thirdparty-data 1.2.3" in lines[0] and "IndexError" in lines[0]
    assert "thirdparty_data.py:" in lines[0]


def test_the_default_bench_says_which_variants_it_left_out_and_why(install_dist, tmp_path):
    install_dist(
        "thirdparty-broken",
        {"thirdparty_broken": "raise ImportError('needs libfoo')\n"},
        {"ganzoo.variants": {"broken": "thirdparty_broken:X"}},
    )
    p = plan(BenchConfig(dataset="ring8", budget="2steps", out=tmp_path / "o"))
    assert "needs libfoo" in p.left_out["broken"] and "thirdparty_broken.py:1" in p.left_out["broken"]
    assert "needs images" in p.left_out["dcgan"]
    assert "gan" in {r.variant for r in p.runs} and "broken" not in {r.variant for r in p.runs}


RELATIVISTIC = '''
from torch.nn.functional import softplus
from ganzoo import Divergence, check_scores

class RSGAN(Divergence):
    """Jolicoeur-Martineau 2019: D judges whether real data is more realistic than fake."""
    description = "relativistic standard GAN"
    needs_real_scores = True
    seen = []

    def d_loss(self, real, fake):
        real, fake = check_scores(real, fake)
        return softplus(-(real - fake)).mean()

    def g_loss(self, fake, real=None):
        RSGAN.seen.append(real is not None)
        fake, real = check_scores(fake, real)
        return softplus(-(fake - real)).mean()
'''


def test_a_divergence_that_needs_real_scores_gets_them_or_is_refused_before_training(install_dist, tmp_path):
    install_dist(
        "thirdparty-rel", {"thirdparty_rel": RELATIVISTIC}, {"ganzoo.divergences": {"rsgan": "thirdparty_rel:RSGAN"}}
    )
    result, out = bench(tmp_path, "--variants", "gan,cgan", "--dataset", "ring8", "--divergences", "rsgan")
    assert result.exit_code == 0, result.output
    status = read_results(out).query("metric == 'status'")
    assert list(status["detail"]) == ["ok", "ok"]
    import thirdparty_rel

    assert thirdparty_rel.RSGAN.seen and all(thirdparty_rel.RSGAN.seen)
    refused, out2 = (
        CliRunner().invoke(
            main,
            [
                "bench",
                "--variants",
                "ebgan",
                "--dataset",
                "ring8",
                "--divergences",
                "rsgan",
                "--budget",
                "2steps",
                "--out",
                str(tmp_path / "o2"),
            ],
        ),
        tmp_path / "o2",
    )
    assert refused.exit_code == 2 and "needs D's scores on real data" in refused.output and "'ebgan'" in refused.output
    assert not out2.exists()


def test_metrics_choose_what_is_computed_and_one_that_does_not_apply_is_refused(tmp_path):
    result, out = bench(tmp_path, "--variants", "gan", "--dataset", "ring8", "--metrics", "modes")
    assert result.exit_code == 0, result.output
    scores = {m for m in read_results(out)["metric"] if not m.startswith(("loss_", "status", "divergence"))}
    assert scores == {"modes", "hq_share", "reverse_kl"}  # no fid, no classes
    refused = CliRunner().invoke(
        main,
        [
            "bench",
            "--variants",
            "gan",
            "--dataset",
            "ring8",
            "--metrics",
            "stacked",
            "--budget",
            "2steps",
            "--out",
            str(tmp_path / "o2"),
        ],
    )
    assert (
        refused.exit_code == 2 and "metric 'stacked' cannot score dataset 'ring8': it does not apply" in refused.output
    )
    assert "modes" in refused.output  # the ones that do
