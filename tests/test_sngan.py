"""SNGAN's and cGAN-PD's networks against their papers' tables (parameter counts and shapes computed here from the
tables, not from ganzoo's code), spectral normalisation against the largest singular value of the reshaped weight
(and the classic wrong versions failing), the projection, and the bad inputs one line before anything trains."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from conftest import cifar10_folder
from torch.nn.utils import parametrize

from ganzoo import DataKind, DatasetInfo
from ganzoo.cli import main
from ganzoo.factory import VariantSpec, create_variant
from ganzoo_plugins.variants.sngan_nets import CNNDiscriminator, CNNGenerator, ResNetDiscriminator, ResNetGenerator

CIFAR = DatasetInfo(DataKind.LABELLED, (3, 32, 32), num_classes=10)


def count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def conv(c_in: int, c_out: int, k: int) -> int:  # weights and bias
    return c_in * c_out * k * k + c_out


def dense(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def bn(c: int) -> int:
    return 2 * c


# -- Miyato et al. 2018, Table 4 (ResNet, CIFAR-10): G z=128 -> dense 4x4x256 -> 3 ResBlock up 256 -> BN, ReLU,
# 3x3 conv 3, tanh; D ResBlock down 128, ResBlock down 128, ResBlock 128, ResBlock 128, ReLU, global sum, dense 1.
# A G block: BN, conv 3x3, BN, conv 3x3, and a 1x1 shortcut conv (it up-samples); a D block: two 3x3 convs and a 1x1
# shortcut where it down-samples or changes the channels.
def g_block(c: int, classes: int = 0) -> int:
    norms = 2 * (classes * 2 * c if classes else bn(c))  # class-conditional: a (gamma, beta) pair per class
    return norms + 2 * conv(c, c, 3) + conv(c, c, 1)


def resnet_g(classes: int = 0) -> int:
    return dense(128, 4 * 4 * 256) + 3 * g_block(256, classes) + bn(256) + conv(256, 3, 3)


def resnet_d(classes: int = 0) -> int:
    first = conv(3, 128, 3) + conv(128, 128, 3) + conv(3, 128, 1)
    down = 2 * conv(128, 128, 3) + conv(128, 128, 1)
    plain = 2 * conv(128, 128, 3)
    return first + down + 2 * plain + dense(128, 1) + classes * 128  # projection: an embedding of 128 per class


def test_the_resnet_pair_has_table_4s_layers():
    G, D = ResNetGenerator(), ResNetDiscriminator()
    assert count(G) == resnet_g() == 4_276_739 and count(D) == resnet_d() == 1_053_825
    z = torch.randn(2, 128)
    assert G(z).shape == (2, 3, 32, 32) and G(z).abs().max() <= 1
    x = torch.randn(2, 3, 32, 32)
    assert D.blocks(x).shape == (2, 128, 8, 8) and D(x).shape == (2, 1)  # two halvings: 32 -> 8


def test_the_conditional_pair_has_cgan_pds_layers():
    G, D = ResNetGenerator(num_classes=10), ResNetDiscriminator(num_classes=10)
    assert count(G) == resnet_g(10) and count(D) == resnet_d(10)
    y = torch.tensor([0, 3])
    assert G(torch.randn(2, 128), y).shape == (2, 3, 32, 32) and D(torch.randn(2, 3, 32, 32), y).shape == (2, 1)


# -- Table 3 (standard CNN): G dense to M_g x M_g x 512, deconv 4x4/2 BN 256, 128, 64, conv 3x3 3 tanh; D conv 3x3 64,
# 4x4/2 64, 3x3 128, 4x4/2 128, 3x3 256, 4x4/2 256, 3x3 512, dense 1 (M_g = 4 at 32, 6 at 48)
def test_the_standard_cnn_pair_has_table_3s_layers():
    for side, m in ((32, 4), (48, 6)):
        g = dense(128, m * m * 512) + sum(conv(a, b, 4) + bn(b) for a, b in ((512, 256), (256, 128), (128, 64)))
        g += conv(64, 3, 3)
        d = sum(conv(a, b, k) for a, b, k in ((3, 64, 3), (64, 64, 4), (64, 128, 3), (128, 128, 4), (128, 256, 3)))
        d += conv(256, 256, 4) + conv(256, 512, 3) + dense(512 * (side // 8) ** 2, 1)
        G, D = CNNGenerator(side=side), CNNDiscriminator(side=side)
        assert (count(G), count(D)) == (g, d), side
        assert G(torch.randn(2, 128)).shape == (2, 3, side, side) and D(torch.randn(2, 3, side, side)).shape == (2, 1)


def _sigma(conv_module: torch.nn.Module) -> float:
    """The sigma torch's parametrisation divides by: the stored weight over the normalised one."""
    original = conv_module.parametrizations.weight.original
    with torch.no_grad():
        return float((original.flatten() @ original.flatten()) / (original.flatten() @ conv_module.weight.flatten()))


def test_spectral_norm_divides_by_the_largest_singular_value_of_the_reshaped_kernel():
    """After a few D forwards sigma is the largest singular value of the weight reshaped to (out, in x k x k). The
    classic wrong versions: sigma of the un-reshaped kernel (the largest over its k x k slices), and a power
    iteration that starts afresh every step instead of keeping its vector."""
    torch.manual_seed(0)
    D = ResNetDiscriminator(ndf=32)
    layer = D.blocks[1].c1
    assert parametrize.is_parametrized(layer, "weight")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        for _ in range(200):  # training-mode forwards, one power iteration each (a random kernel's top gap is small)
            D(x)
    w = layer.parametrizations.weight.original.detach()
    true = float(torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), ord=2))
    assert abs(_sigma(layer) - true) < 1e-3 * true
    assert abs(float(torch.linalg.matrix_norm(layer.weight.detach().reshape(w.shape[0], -1), ord=2)) - 1) < 1e-3
    wrong_unreshaped = float(torch.linalg.matrix_norm(w.permute(2, 3, 0, 1), ord=2).max())  # per spatial slice
    assert abs(wrong_unreshaped - true) > 0.05 * true
    # one iteration from a fresh random vector, every step (nothing kept): far from sigma however many steps ran
    gen = torch.Generator().manual_seed(1)
    mat = w.reshape(w.shape[0], -1)
    u = F.normalize(torch.randn(mat.shape[0], generator=gen), dim=0)
    v = F.normalize(mat.T @ u, dim=0)
    fresh = float(F.normalize(mat @ v, dim=0) @ mat @ v)
    assert abs(fresh - true) > 0.02 * true
    # and evaluation (eval mode) leaves the vector where training put it
    D.eval()
    before = layer.parametrizations.weight[0]._u.clone()
    D(x)
    assert torch.equal(before, layer.parametrizations.weight[0]._u)


def test_the_projection_adds_the_class_embeddings_inner_product_with_the_features():
    """D(x, y) - D(x, y') = <embed(y) - embed(y'), phi(x)>: the class enters the score through the projection only
    (the classic wrong version concatenates a one-hot to the input, which this identity would not hold for)."""
    torch.manual_seed(0)
    D = ResNetDiscriminator(ndf=16, num_classes=10).eval()
    x = torch.randn(3, 3, 32, 32)
    y, y2 = torch.tensor([1, 2, 3]), torch.tensor([4, 4, 4])
    with torch.no_grad():
        phi = F.relu(D.blocks(x)).sum(dim=(2, 3))
        expected = ((D.l_y(y) - D.l_y(y2)) * phi).sum(1, keepdim=True)
        assert torch.allclose(D(x, y) - D(x, y2), expected, atol=1e-4)
        assert not torch.allclose(D(x, y), D(x, y2))


def test_the_conditional_generator_draws_each_class_from_its_own_batchnorm_parameters():
    torch.manual_seed(0)
    G = ResNetGenerator(ngf=16, num_classes=10)
    with torch.no_grad():
        G.blocks[0].b1.norm.embed.weight[3].add_(0.5)  # class 3's gamma and beta only
        G.eval()
        z = torch.randn(1, 128).repeat(2, 1)
        out = G(z, torch.tensor([3, 4]))
        assert not torch.allclose(out[0], out[1])
        assert torch.allclose(G(z, torch.tensor([4, 5]))[0], out[1])  # class 4 untouched


def test_a_variant_gets_sngans_recipe_and_spectral_norm_refuses_weight_clipping():
    built = create_variant(VariantSpec("sngan", "sngan", "hinge", {"ngf": 16, "ndf": 8}), CIFAR)
    t = built.training
    assert (t.lr, t.beta1, t.beta2, t.d_steps, t.lr_decay) == (2e-4, 0.0, 0.9, 5, "linear")
    with pytest.raises(ValueError, match="spectral_norm=false"):
        create_variant(VariantSpec("sngan", "sngan", "wasserstein", {"ngf": 16, "ndf": 8}), CIFAR)
    plain = create_variant(
        VariantSpec("sngan", "sngan", "wasserstein", {"ngf": 16, "ndf": 8, "spectral_norm": False}), CIFAR
    )
    assert not any(parametrize.is_parametrized(m) for m in plain.variant.D.modules())


def _bench(tmp_path, *args):
    return CliRunner().invoke(main, ["bench", "--out", str(tmp_path / "out"), "--budget", "2steps", *args])


def test_bad_inputs_are_one_line_before_anything_trains(tmp_path):
    digits = _bench(tmp_path, "--dataset", "digits", "--variants", "sngan")
    assert digits.exit_code == 2 and "32x32" in digits.output and len(digits.output.strip().splitlines()) == 1, (
        digits.output
    )
    cifar10_folder(tmp_path / "data")
    common = ["--dataset", "cifar10", "--data-dir", str(tmp_path / "data"), "--variants", "sngan"]
    clip = _bench(tmp_path, *common, "--divergences", "wasserstein")
    assert clip.exit_code == 2 and "spectral" in clip.output and len(clip.output.strip().splitlines()) == 1
    arch = _bench(tmp_path, *common, "--set", "sngan.arch=mlp")
    assert arch.exit_code == 2 and "arch must be one of resnet, cnn" in arch.output
    seconds = CliRunner().invoke(
        main, ["bench", "--out", str(tmp_path / "o2"), "--budget", "5s", *common, "--set", "sngan.ngf=16"]
    )
    assert seconds.exit_code == 2 and "lr_decay=linear" in seconds.output, seconds.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "o2").exists()
