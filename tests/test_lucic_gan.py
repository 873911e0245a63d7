"""compare_gan v1's networks (Lucic et al. 2018), checked against the architecture as its AbstractGAN writes it
(the counts below are computed here from that table, not from ganzoo's code), and the study's presets on them."""

import json

import pytest
import torch
from torch import nn

from ganzoo import DataKind, DatasetInfo, IncompatibleData, presets, registry
from ganzoo.factory import VariantSpec, create_variant


def _info(c, s, unit=False):
    return DatasetInfo(kind=DataKind.UNCONDITIONAL, shape=(c, s, s), value_range=(0.0, 1.0) if unit else (-1.0, 1.0))


def _table(c: int, s: int, bn_in_d: bool) -> tuple[int, int]:
    """Parameters of G and D from compare_gan's table: G fc 1024 (BN), fc 128 (s/4)^2 (BN), deconv 4x4 64 (BN),
    deconv 4x4 c; D conv 4x4 64, conv 4x4 128 (BN), fc 1024 (BN), fc 1. Every layer has a bias; BN a scale and
    a shift per unit."""
    q2 = (s // 4) ** 2
    g = (64 * 1024 + 1024) + 2 * 1024
    g += (1024 * 128 * q2 + 128 * q2) + 2 * 128 * q2
    g += (4 * 4 * 128 * 64 + 64) + 2 * 64
    g += 4 * 4 * 64 * c + c
    d = (4 * 4 * c * 64 + 64) + (4 * 4 * 64 * 128 + 128) + (128 * q2 * 1024 + 1024) + (1024 + 1)
    d += (2 * 128 + 2 * 1024) if bn_in_d else 0
    return g, d


def _build(info, **settings):
    torch.manual_seed(0)
    return create_variant(VariantSpec("lucic-gan", "lucic-gan", "nonsaturating", settings), info).variant


@pytest.mark.parametrize("c, s", [(1, 28), (3, 32), (3, 64)])
@pytest.mark.parametrize("d_norm", ["batch", "none"])
def test_parameter_counts_and_shapes_are_compare_gans(c, s, d_norm):
    v = _build(_info(c, s), d_norm=d_norm)
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert (count(v.G), count(v.D)) == _table(c, s, d_norm == "batch")
    shapes = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
        for m in v.G
        if not list(m.children())
    ]
    v.G.eval()
    x = v.G(torch.rand(2, 64) * 2 - 1)
    for h in hooks:
        h.remove()
    assert (128, s // 4, s // 4) in shapes and (64, s // 2, s // 2) in shapes and x.shape == (2, c, s, s)
    assert v.D(x).shape == (2, 1) and v.z_dim == 64 and v.z_dist == "uniform"


def test_batchnorm_is_tensorflows_and_the_output_follows_the_datas_range():
    v = _build(_info(1, 28))
    bns = [m for m in v.G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert bns and all(m.momentum == pytest.approx(0.001) and m.eps == pytest.approx(1e-3) for m in bns)
    assert all(torch.equal(m.weight, torch.ones_like(m.weight)) for m in bns)  # TF: scale starts at 1
    assert isinstance(v.G[-1], nn.Tanh) and isinstance(_build(_info(1, 28, unit=True)).G[-1], nn.Sigmoid)
    convs = [m.weight for m in v.D.modules() if isinstance(m, nn.Conv2d)]
    assert all(w.abs().max() <= 0.04 for w in convs)  # truncated at two std (0.02)
    assert not any(
        isinstance(m, nn.modules.batchnorm._BatchNorm) for m in _build(_info(1, 28), d_norm="none").D.modules()
    )


def test_only_the_studys_image_sides_are_taken():
    cls = registry.variants.get("lucic-gan")
    with pytest.raises(IncompatibleData, match="28x28, 32x32 and 64x64.*got 8x8"):
        cls.check_data("digits", registry.datasets.get("digits").info)
    with pytest.raises(IncompatibleData, match="needs images"):
        cls.check_data("ring8", registry.datasets.get("ring8").info)


@pytest.mark.parametrize(
    "name, dataset, steps, every",
    [
        ("lucic-mnist", "mnist:unit-range", 15_625, 3_906),
        ("lucic-fashion-mnist", "fashion-mnist:unit-range", 15_625, 3_906),
        ("lucic-cifar10", "cifar10:unit-range", 78_125, 3_906),
        ("lucic-celeba", "celeba64:compare-gan,unit-range", 101_250, 12_656),
    ],
)
def test_lucic_presets_train_compare_gans_networks_as_long_as_it_did(name, dataset, steps, every):
    """compare_gan's TuneParams: 20 epochs of 50,000 images for MNIST and Fashion-MNIST (not Fashion-MNIST's
    60,000), 100 of 50,000 for CIFAR-10, 40 of 162,000 for CelebA, a checkpoint every 5 epochs, at batch 64;
    images in [0, 1]."""
    pr = presets.get(name)
    assert pr.options["variants"] == ["lucic-gan"] and pr.options["dataset"] == dataset
    assert (pr.options["budget"], pr.options["eval_every"]) == (f"{steps}steps", f"{every}steps")
    assert all(p.variant.startswith("lucic-gan-") for p in pr.published)
    assert "InfoGAN-style" not in pr.deviations  # the study's own networks now


def test_lucic_celeba_runs_end_to_end_on_files_in_celebas_layout(tmp_path, random_inception_weights):
    """The preset, shortened (one sample of one loss, 2 steps, 24 samples), on aligned JPEG faces the test writes:
    the faces cut by compare_gan's rule and read in [0, 1], G ending in a sigmoid, FID in Inception features."""
    from click.testing import CliRunner
    from conftest import celeba_folder

    from ganzoo.cli import main
    from ganzoo.results import read_results

    celeba_folder(tmp_path / "data", n=40)
    out = tmp_path / "out"
    args = ["bench", "--preset", "lucic-celeba", "--data-dir", str(tmp_path / "data"), "--no-download"]
    args += ["--inception-weights", str(random_inception_weights), "--budget", "2steps", "--samples", "1"]
    args += ["--divergence", "nonsaturating", "--set", "fidelity.max_samples=24", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    df = read_results(out)
    assert set(df["dataset"]) == {"celeba64:compare-gan,unit-range"} and "fid" in set(df["metric"])
    config = json.loads(next((out / "runs").glob("*/config.json")).read_text())
    assert "central 160x160" in json.dumps(config)
