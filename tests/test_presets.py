"""Presets (a paper's protocol as one bench, with its published numbers), variant labels, PacGAN's
packing and the knobs the presets need."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from conftest import SHARED_MNIST

from ganzoo import DataKind, DatasetInfo, pack_samples
from ganzoo.cli import main
from ganzoo.config import BenchConfig
from ganzoo.data import BatchSampler
from ganzoo.factory import VariantSpec, create_variant, dataset_info, load_data
from ganzoo.presets import PRESETS
from ganzoo.report import equivalence
from ganzoo.results import read_results
from ganzoo.trainer import Trainer
from ganzoo_plugins.variants.mlp_nets import Maxout


def cli(*args):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    """pacgan-ring, shortened: two of its variants, one seed, 20 steps, one --set over the preset's."""
    out = tmp_path_factory.mktemp("preset") / "ring"
    result = cli(
        "bench",
        "--preset",
        "pacgan-ring",
        "--budget",
        "20steps",
        "--seeds",
        "1",
        "--variants",
        "gan,pacgan4",
        "--set",
        "gan.lr=0.001",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_a_shortened_preset_runs_the_papers_networks_and_records_every_override(ring):
    out, output = ring
    assert "preset pacgan-ring" in output and "overridden" in output
    rec = json.loads((out / "bench.json").read_text())["preset"]
    assert rec["name"] == "pacgan-ring"
    assert sorted(rec["overrides"]) == ["--budget 20steps", "--seeds 0", "--set gan.lr=0.001", "--variants gan,pacgan4"]
    gan = json.loads((out / "runs" / "gan-nonsaturating-s0" / "config.json").read_text())
    pac = json.loads((out / "runs" / "pacgan4-nonsaturating-s0" / "config.json").read_text())
    assert pac["variant"] == "pacgan4" and pac["variant_plugin"] == "gan"
    assert pac["hparams"]["pack"] == 4 and gan["hparams"]["pack"] == 1
    assert (
        gan["hparams"]["lr"] == 0.001 and pac["hparams"]["lr"] == 0.0001
    )  # the user's --set wins, for its variant only
    for cfg in (gan, pac):  # PacGAN's 2-D protocol
        hp = cfg["hparams"]
        assert (hp["z_dim"], hp["hidden"], hp["g_layers"], hp["d_hidden"], hp["d_layers"], hp["d_maxout"]) == (
            2,
            400,
            4,
            200,
            3,
            5,
        )
        assert (hp["batch_size"], hp["beta1"], hp["activation"], hp["init"]) == (100, 0.8, "relu", "normal")
    df = read_results(out)
    assert set(df["variant"]) == {"gan", "pacgan4"}
    assert {"modes", "hq_share", "reverse_kl"} <= set(df["metric"])


def test_published_table_puts_ganzoos_rows_beside_the_papers(ring):
    out, _ = ring
    result = cli("table", str(out), "--published", "--format", "csv")
    assert result.exit_code == 0, result.output
    from io import StringIO

    t = pd.read_csv(StringIO(result.output))
    paper = t[t.source == "PacGAN (Lin et al. 2018), Table 1"].set_index(["variant", "metric"])
    assert paper.loc[("gan", "modes"), "mean"] == 6.3 and paper.loc[("gan", "modes"), "se"] == 0.5
    assert paper.loc[("pacgan4", "reverse_kl"), "mean"] == 0.07 and paper.loc[("pacgan4", "hq_share"), "mean"] == 0.959
    ours = t[t.source == "ganzoo"]
    assert set(ours.variant) == {"gan", "pacgan4"} and (ours[ours.metric == "modes"].runs == 1).all()
    assert "--budget 20steps" in ours.protocol.iloc[0]
    # a shortened run is not the paper's protocol: it says so, and which options, instead of a verdict (before:
    # "within 2 combined s.e.: yes" with 2 seeds at 0.075% of the training length read as reproduced)
    assert set(paper.verdict) == {"protocol differs: --budget 20steps, --seeds 0, --set gan.lr=0.001"}
    assert paper.distance_se.isna().all()


def test_a_shortened_preset_keeps_its_number_of_evaluation_points():
    """pacgan-ring evaluates 4 times over 400,000 steps; shortened to 300 steps it evaluates every 75 (before: every
    100,000, so only the two ends), unless --eval-every is given."""
    ring = PRESETS["pacgan-ring"]
    assert ring.config(out=Path("/tmp/x"), budget="300steps").eval_every == "75steps"
    assert ring.config(out=Path("/tmp/x"), budget="300steps", eval_every="100steps").eval_every == "100steps"
    assert ring.config(out=Path("/tmp/x"), budget="60s").eval_every is None  # another measure: a quarter
    assert ring.config(out=Path("/tmp/x")).eval_every == "100000steps"


def test_a_presets_closing_table_leads_with_the_papers_columns(ring):
    """PacGAN's Table 1 prints modes, high-quality share and reverse KL: the bench's summary starts with them (before:
    FID, KID and precision in classifier features on 2-D points came first, the paper's columns under '+2 more')."""
    out, output = ring
    summary = json.loads((out / "bench.json").read_text())["summary_metrics"]
    assert summary[:3] == ["modes", "hq_share", "reverse_kl"]
    header = next(line for line in output.split("final values")[-1].splitlines() if "variant/divergence" in line)
    assert header.split()[1:4] == ["runs", "modes", "hq_share"], header  # the closing table's first columns


def test_a_match_is_claimed_by_an_equivalence_test_not_by_finding_no_difference():
    """Two seeds, 0.3 from a published 6.3 ± 0.5 (10 trials), ganzoo's s.e. 0.6: the old rule (within 2 combined
    s.e., distance 0.38) read "yes"; two one-sided tests at a 0.5-mode margin cannot reject either side."""
    v = equivalence(6.6, 0.6, 2, 6.3, 0.5, 0.5, trials=10)
    assert v.distance == pytest.approx(0.3 / np.hypot(0.6, 0.5)) and v.distance < 2  # the classic rule's "yes"
    assert v.text == "not shown equivalent (margin ±0.5)" and v.p > 0.05
    # ten seeds, s.e. 0.05, 0.1 from a published mean with s.e. 0.1: the 90% interval of the difference lies inside
    v = equivalence(6.4, 0.05, 10, 6.3, 0.1, 0.5, trials=10)
    assert v.text == "equivalent (margin ±0.5)" and v.p < 0.05


def test_the_equivalence_test_rejects_both_sides_and_uses_the_combined_error():
    """Asymmetric cases, so a one-sided test or a test on one side's error reads differently from the right one."""
    # a difference of +0.35 against a margin of 0.5, combined s.e. hypot(0.03, 0.1) = 0.104: the upper test's
    # statistic is -1.44, p about 0.09, so not equivalent; with ganzoo's error alone (0.03) it would be -5: equivalent
    v = equivalence(6.65, 0.03, 10, 6.3, 0.1, 0.5, trials=10)
    assert v.text.startswith("not shown") and 0.05 < v.p < 0.2
    # the same gap below the published mean gives the same p (the two tests mirror)
    assert equivalence(5.95, 0.03, 10, 6.3, 0.1, 0.5, trials=10).p == pytest.approx(v.p)
    # the lower test alone would call a difference of -0.9 equivalent (it only rejects "higher by 0.5 or more")
    assert equivalence(5.4, 0.03, 10, 6.3, 0.1, 0.5, trials=10).p > 0.99
    # known degrees of freedom (10 trials) give a wider test than the normal limit
    assert equivalence(6.5, 0.1, 3, 6.3, 0.1, 0.5, trials=3).p > equivalence(6.5, 0.1, 3, 6.3, 0.1, 0.5).p


def test_the_equivalence_test_says_why_it_did_not_run():
    assert equivalence(5.0, 0.3, 3, 6.3, None, 0.5).text == "no s.e."
    assert equivalence(float("nan"), 0.3, 3, 6.3, 0.5, 0.5).text == "no value"
    assert equivalence(7.0, float("nan"), 1, 6.3, 0.5, 0.5).text == "one run"
    v = equivalence(7.0, 0.2, 3, 6.3, 0.5, None)
    assert v.text == "no margin stated" and np.isnan(v.p) and v.distance == pytest.approx(0.7 / np.hypot(0.2, 0.5))
    assert equivalence(1000.0, 0.0, 10, 1000.0, 0.0, 25.0).text.startswith("equivalent")
    assert equivalence(970.0, 0.0, 10, 1000.0, 0.0, 25.0).text.startswith("not shown")


def test_every_published_row_of_a_preset_has_its_margin():
    for preset in PRESETS.values():
        margins = dict(preset.margins)
        for row in preset.published_rows():
            if row["spread"] == "se":
                assert row["margin"] == margins[row["metric"]] > 0, (preset.name, row)
        assert not margins or preset.margin_rule


def test_published_needs_a_preset_bench(tmp_path):
    out = tmp_path / "plain"
    assert (
        cli("bench", "--variants", "gan", "--dataset", "ring8", "--budget", "2steps", "--out", str(out)).exit_code == 0
    )
    result = cli("table", str(out), "--published")
    assert result.exit_code == 2 and "not run from a preset" in result.output


def test_every_preset_resolves_to_a_valid_bench_with_sourced_numbers():
    from ganzoo.plan import plan

    for name, preset in PRESETS.items():
        config = preset.config(out=__import__("pathlib").Path("/tmp/never-written"), budget="2steps")
        assert config.preset == name
        labels = {v.partition("=")[0] for v in preset.options["variants"]}
        if preset.sweep:  # a study's numbers are for its best settings, rerun under the labels --rerun-best gives them
            labels = {f"{v}-{d}-best" for v in labels for d in preset.options["divergences"]}
        for p in preset.published:
            assert p.source and p.metric and p.variant in labels, p
        if name in ("pacgan-ring", "pacgan-grid"):
            plan(config)  # every setting builds and takes one step on stand-in data


def test_unknown_preset_is_one_line():
    result = cli("bench", "--preset", "pacgan-rng", "--out", "/tmp/never-written")
    assert result.exit_code == 2 and "unknown preset 'pacgan-rng'" in result.output and "pacgan-ring" in result.output


@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="the shared MNIST test split is not next to this checkout")
def test_lucic_preset_resolves_then_stops_before_training_without_inception_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    out = tmp_path / "lucic"
    result = cli(
        "bench",
        "--preset",
        "lucic-mnist",
        "--samples",
        "1",
        "--data-dir",
        str(SHARED_MNIST),
        "--split",
        "test",
        "--out",
        str(out),
    )
    assert result.exit_code == 2 and "--inception-weights" in result.output, result.output
    assert not (out / "runs").exists()


# -- labels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variants, message",
    [
        ("gan=dcgan", "name of another installed variant"),
        ("x=gan,x=gan", "given twice"),
        ("../up=gan", "labels are letters"),
        ("mine=nosuch", "unknown variant 'nosuch'"),
    ],
)
def test_bad_variant_labels_are_refused(tmp_path, variants, message):
    result = cli(
        "bench", "--variants", variants, "--dataset", "ring8", "--budget", "2steps", "--out", str(tmp_path / "o")
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "o").exists()


# -- packing and the knobs ------------------------------------------------------------------------


def test_packing_joins_consecutive_samples_along_channels():
    x = torch.arange(6 * 3 * 2 * 2, dtype=torch.float32).reshape(6, 3, 2, 2)
    packed = pack_samples(x, 3)
    assert packed.shape == (2, 9, 2, 2)
    assert torch.equal(packed[0], torch.cat([x[0], x[1], x[2]]))  # not x[0], x[2], x[4] (a strided split)
    assert torch.equal(packed[1], torch.cat([x[3], x[4], x[5]]))
    assert torch.equal(pack_samples(x, 1), x)
    with pytest.raises(ValueError, match="cannot be packed in groups of 4"):
        pack_samples(x, 4)


def test_a_packed_d_sees_all_real_and_all_fake_packs_of_the_protocols_batch():
    info = dataset_info("ring8")
    v = create_variant(VariantSpec("pacgan3", "gan", "nonsaturating", {"pack": 3, "batch_size": 10}), info).variant
    seen = []
    first = v.D[2][0]  # the first hidden layer, after Pack and Flatten
    first.register_forward_hook(lambda m, i, o: seen.append(i[0].shape))
    data = load_data(BenchConfig(dataset="ring8"))
    batch = v.next_batch(BatchSampler(data, seed=0, device=torch.device("cpu")))
    assert batch.x.shape[0] == 30  # 10 packs of 3
    v.discriminator_loss(batch)
    assert seen == [torch.Size([10, 6]), torch.Size([10, 6])]  # real packs, then fake packs: never mixed


def test_maxout_takes_the_max_over_each_units_own_pieces():
    m = Maxout(1, 2, 3)
    with torch.no_grad():
        m.linear.weight.copy_(
            torch.tensor([[1.0], [5.0], [2.0], [-1.0], [-3.0], [0.5]])
        )  # unit 0: 1,5,2; unit 1: -1,-3,0.5
        m.linear.bias.zero_()
    out = m(torch.tensor([[1.0], [-1.0]]))
    assert torch.equal(out, torch.tensor([[5.0, 0.5], [-1.0, 3.0]]))  # max over pieces of one unit, not across units


def test_g_steps_and_uniform_noise():
    info = dataset_info("ring8")
    built = create_variant(
        VariantSpec("gan", "gan", "nonsaturating", {"g_steps": 2, "z_dist": "uniform", "batch_size": 8}), info
    )
    v = built.variant
    calls = []
    original = v.generator_loss
    v.generator_loss = lambda batch: calls.append(1) or original(batch)
    data = load_data(BenchConfig(dataset="ring8"))
    Trainer(v, BatchSampler(data, seed=0, device=torch.device("cpu")), built.training).step()
    assert len(calls) == 2
    z = v.noise(10_000, 2)
    assert z.min() >= -1 and z.max() <= 1 and z.abs().mean() > 0.45  # U[-1, 1]: mean |z| = 0.5 (N(0, 1): 0.80)


def test_pacgans_table_1_rows_are_the_shared_files():
    """Every GAN and PacGAN row of PacGAN's Table 1 (PacGAN2 and PacGAN3 included, which were left out before), as
    ../shared/published/pacgan-table1.csv holds them (the high-quality share there in percent)."""
    import csv

    from conftest import REPO

    shared = REPO.parent / "shared" / "published" / "pacgan-table1.csv"
    if not shared.is_file():
        pytest.skip(f"{shared} is not beside this checkout")
    for preset, dataset in (("pacgan-ring", "ring8"), ("pacgan-grid", "grid25")):
        ours = {(p.variant, p.metric): (p.mean, p.se) for p in PRESETS[preset].published}
        expected = {}
        for r in csv.DictReader(shared.open()):
            if r["dataset"] != dataset or r["row"] == "ALI":
                continue
            v = r["row"].lower()
            expected[(v, "modes")] = (float(r["modes"]), float(r["modes_se"]))
            expected[(v, "hq_share")] = (float(r["hq_share_percent"]) / 100, float(r["hq_share_se_percent"]) / 100)
            expected[(v, "reverse_kl")] = (float(r["reverse_kl"]), float(r["reverse_kl_se"]))
        assert ours.keys() == expected.keys()
        for key, (mean, se) in expected.items():
            assert ours[key] == pytest.approx((mean, se), abs=1e-12), (preset, key)


def test_mimicrys_rows_are_the_shared_files():
    """Mimicry's CIFAR-10 baselines as ../shared/published/mimicry-cifar10.csv holds them: IS, FID and KID (raw, shown
    x10^3), each '± as published'."""
    import csv

    from conftest import REPO

    shared = REPO.parent / "shared" / "published" / "mimicry-cifar10.csv"
    if not shared.is_file():
        pytest.skip(f"{shared} is not beside this checkout")
    ours = {(p.variant, p.metric): (p.mean, p.se, p.spread) for p in PRESETS["mimicry-cifar10"].published}
    labels = {"WGAN-GP": "wgan-gp", "SNGAN": "sngan", "cGAN-PD": "cgan-pd"}
    expected = {
        (labels[r["model"]], metric): (float(r[column]), float(r[column + "_spread"]), "as published")
        for r in csv.DictReader(shared.open())
        if r["model"] in labels
        for metric, column in (("inception_score", "is"), ("fid", "fid"), ("kid", "kid"))
    }
    assert ours == expected


def test_mimicrys_recipe_beats_a_divergences_own_and_pins_its_sample_counts():
    """WGAN-GP's recipe is Adam(1e-4, (0, 0.9)); Mimicry trained its WGAN-GP row as the others, at 2e-4: the preset's
    values win over the recipe (before: the recipe's 1e-4), the user's --set still over both."""
    preset = PRESETS["mimicry-cifar10"]
    config = preset.config(out=Path("/tmp/x"))
    assert config.settings == {"fidelity": {"max_samples": "50000"}} and config.features == "inception"
    info = DatasetInfo(DataKind.LABELLED, (3, 32, 32), num_classes=10)
    raw = config.preset_settings["wgan-gp"]
    assert (raw["lr"], raw["beta2"], raw["spectral_norm"]) == ("2e-4", "0.9", "false")
    typed = dict(lr=2e-4, beta1=0.0, beta2=0.9, d_steps=5, batch_size=64, lr_decay="linear", ema=0.0)
    typed.update(spectral_norm=False, ngf=16, ndf=8)
    over = create_variant(
        VariantSpec("wgan-gp", "sngan", "wasserstein-gp", preset=typed, preset_over_recipe=True), info
    )
    under = create_variant(VariantSpec("wgan-gp", "sngan", "wasserstein-gp", preset=typed), info)
    assert (over.training.lr, over.training.beta2, over.training.lr_decay) == (2e-4, 0.9, "linear")
    assert under.training.lr == 1e-4  # the classic order: a divergence's recipe over the preset
    user = create_variant(
        VariantSpec("wgan-gp", "sngan", "wasserstein-gp", {"lr": 5e-4}, preset=typed, preset_over_recipe=True), info
    )
    assert user.training.lr == 5e-4
    assert preset.config(out=Path("/tmp/x"), settings={"fidelity": {"max_samples": "64"}}).settings == {
        "fidelity": {"max_samples": "64"}
    }


def test_mimicry_cifar10_runs_end_to_end_on_files_in_cifars_format(tmp_path, random_inception_weights):
    """The preset on a CIFAR-10 binary folder the test writes, shortened (2 steps, narrow networks, 24 samples):
    IS, FID and KID in Inception features for the SNGAN row, and its published rows beside them."""
    from conftest import cifar10_folder

    cifar10_folder(tmp_path / "data", n=8)
    out = tmp_path / "out"
    args = ["--preset", "mimicry-cifar10", "--variants", "sngan", "--data-dir", str(tmp_path / "data"), "--no-download"]
    args += ["--inception-weights", str(random_inception_weights), "--budget", "2steps", "--out", str(out)]
    args += ["--set", "fidelity.max_samples=24", "--set", "sngan.ngf=16", "--set", "sngan.ndf=8"]
    result = cli("bench", *args)
    assert result.exit_code == 0, result.output
    assert "--no-download" in result.output and "features are computed once" in result.output
    df = read_results(out)
    assert {"inception_score", "fid", "kid"} <= set(df["metric"]) and set(df["features"].dropna()) >= {"inception"}
    t = cli("table", str(out), "--published", "--format", "csv")
    assert t.exit_code == 0 and "Mimicry (Lee & Town 2020)" in t.output and "protocol differs" in t.output
    shown = cli("table", str(out), "--published", "--format", "markdown").output
    assert "kid ×10³" in shown and "12.5 ± 0.1" in shown  # SNGAN's published KID, 0.0125 ± 0.0001, at the same scale


def test_a_preset_on_a_dataset_it_was_not_written_for_is_one_line(tmp_path):
    result = cli("bench", "--preset", "mimicry-cifar10", "--dataset", "mnist", "--out", str(tmp_path / "o"))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "written for --dataset cifar10" in lines[0], result.output
    assert not (tmp_path / "o").exists()
