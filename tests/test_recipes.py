"""Training recipes and loss weights pinned to the papers: WGAN's and WGAN-GP's critic schedule and
optimiser, WGAN-GP's ban on BatchNorm critics, and CycleGAN's and StarGAN's loss terms."""

import json

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from ganzoo import Batch, registry
from ganzoo.cli import main
from ganzoo.factory import Built, VariantSpec, create_variant
from ganzoo.trainer import Trainer


def build(variant: str, divergence: str, info, settings: dict) -> Built:
    return create_variant(VariantSpec(variant, variant, divergence, settings), info)


def optimizers(built: Built) -> tuple:
    """(D's, G's) optimizer, as the trainer builds them from the training settings."""
    trainer = Trainer(built.variant, None, built.training)  # type: ignore[arg-type]
    return trainer.d_opt, trainer.g_opt


DIGITS = registry.datasets.get("digits").info
MNIST = registry.datasets.get("mnist").info  # 28 px: DCGAN's D has BatchNorm layers (8 px digits: none)
DOMAINS = registry.datasets.get("digits-domains").info


def test_wgan_trains_its_critic_five_times_with_rmsprop():
    b = build("gan", "wasserstein", DIGITS, {})
    record, (d_opt, g_opt) = b.record, optimizers(b)
    assert b.training.d_steps == 5 and isinstance(d_opt, torch.optim.RMSprop) and isinstance(g_opt, torch.optim.RMSprop)
    assert d_opt.param_groups[0]["lr"] == 5e-5
    assert record["source"].startswith("wasserstein") and record["applied"] == {
        "d_steps": 5,
        "optimizer": "rmsprop",
        "lr": 5e-5,
    }


def test_wgan_gp_uses_adam_1e4_betas_0_09_and_five_critic_steps():
    b = build("gan", "wasserstein-gp", DIGITS, {})
    record, (d_opt, _) = b.record, optimizers(b)
    assert b.training.d_steps == 5 and isinstance(d_opt, torch.optim.Adam)
    assert d_opt.param_groups[0]["lr"] == 1e-4 and d_opt.param_groups[0]["betas"] == (0.0, 0.9)
    assert record["not_applicable"] == ["d_norm"]  # GAN's MLP critic has no normalisation to switch


def test_other_divergences_keep_the_variants_own_recipe():
    b = build("gan", "nonsaturating", DIGITS, {})
    record, (d_opt, _) = b.record, optimizers(b)
    assert b.training.d_steps == 1 and d_opt.param_groups[0]["betas"] == (0.5, 0.999) and record["source"] is None


def test_user_settings_override_the_recipe_and_are_recorded():
    b = build("gan", "wasserstein-gp", DIGITS, {"d_steps": 2, "lr": 3e-4, "optimizer": "rmsprop"})
    record, (d_opt, _) = b.record, optimizers(b)
    assert b.training.d_steps == 2 and isinstance(d_opt, torch.optim.RMSprop) and d_opt.param_groups[0]["lr"] == 3e-4
    assert record["applied"] == {"beta1": 0.0, "beta2": 0.9} and record["user_set"] == {
        "d_steps": 2,
        "lr": 3e-4,
        "optimizer": "rmsprop",
    }


def test_wgan_gp_switches_dcgans_critic_to_layer_norm_and_refuses_batchnorm():
    b = build("dcgan", "wasserstein-gp", MNIST, {})
    v, record = b.variant, b.record
    assert record["applied"]["d_norm"] == "layer"
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in v.D.modules())
    assert any(isinstance(m, torch.nn.GroupNorm) for m in v.D.modules())
    assert any(
        isinstance(m, torch.nn.BatchNorm2d) for m in build("dcgan", "nonsaturating", MNIST, {}).variant.D.modules()
    )
    with pytest.raises(ValueError, match="BatchNorm"):
        build("dcgan", "wasserstein-gp", MNIST, {"d_norm": "batch"})


def test_stargan_keeps_its_papers_recipe_with_its_own_wgan_gp():
    b = build("stargan", "wasserstein-gp", DOMAINS, {})
    v, record, (d_opt, _) = b.variant, b.record, optimizers(b)
    assert (
        b.training.d_steps == 5
        and d_opt.param_groups[0]["lr"] == 1e-4
        and d_opt.param_groups[0]["betas"] == (0.5, 0.999)
    )
    assert record["applied"] == {} and record["source"].startswith("stargan's own")
    assert (
        v.cls_weight == 1.0 and v.rec_weight == 10.0 and v.divergence.gp_weight == 10.0
    )  # Choi et al. 2018, section 4


def test_bench_refuses_a_batchnorm_critic_under_wgan_gp_and_records_the_recipe(tmp_path):
    out = tmp_path / "bad"
    bad = CliRunner().invoke(
        main,
        [
            "bench",
            "--variants",
            "dcgan",
            "--divergence",
            "wasserstein-gp",
            "--set",
            "dcgan.d_norm=batch",
            "--dataset",
            "mnist",
            "--no-download",
            "--budget",
            "1steps",
            "--out",
            str(out),
        ],
    )
    assert bad.exit_code == 2 and "BatchNorm" in bad.output and not out.exists()
    good = CliRunner().invoke(
        main,
        [
            "bench",
            "--variants",
            "gan",
            "--divergence",
            "wasserstein",
            "--budget",
            "1steps",
            "--out",
            str(tmp_path / "ok"),
        ],
    )
    assert good.exit_code == 0, good.output
    config = json.loads((tmp_path / "ok" / "runs" / "gan-wasserstein-s0" / "config.json").read_text())
    assert (
        config["d_steps"] == 5
        and config["recipe"]["optimizer"] == "rmsprop"
        and config["recipe"]["applied"]["lr"] == 5e-5
    )


@pytest.mark.parametrize(
    "key, value, needle",
    [("d_steps", "0", "d_steps"), ("optimizer", "sgd", "optimizer"), ("lr", "nan", "lr"), ("beta2", "1.5", "beta2")],
)
def test_bad_training_settings_are_refused(tmp_path, key, value, needle):
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--variants",
            "gan",
            "--set",
            f"gan.{key}={value}",
            "--budget",
            "1steps",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2 and needle in result.output and not (tmp_path / "o").exists()


@pytest.fixture
def domain_batch():
    torch.manual_seed(0)
    return Batch(
        x=torch.rand(6, *DOMAINS.shape) * 2 - 1,
        y=torch.ones(6, dtype=torch.long),
        source=torch.rand(6, *DOMAINS.shape) * 2 - 1,
        source_y=torch.zeros(6, dtype=torch.long),
    )


def test_cyclegan_losses_are_the_papers(domain_batch):
    """Zhu et al. 2017, eq. 1-3 and section 4: D halves its least-squares loss, G's adversarial term is the
    plain MSE against 1, the cycle term is lambda=10 times the two L1s, identity 0.5 lambda."""
    v = build("cyclegan", "least-squares", DOMAINS, {"identity_weight": 0.5}).variant
    assert (v.cycle_weight, v.lr, v.beta1, v.buffer_size) == (10.0, 2e-4, 0.5, 50)
    a, b = domain_batch.source, domain_batch.x
    g = v.generator_loss(domain_batch).losses
    with torch.no_grad():
        fake_b, fake_a = v.G_AB(a), v.G_BA(b)
        assert torch.allclose(g["adv_AB"], F.mse_loss(v.D_B(fake_b), torch.ones_like(v.D_B(fake_b))))
        assert torch.allclose(g["adv_BA"], F.mse_loss(v.D_A(fake_a), torch.ones_like(v.D_A(fake_a))))
        assert torch.allclose(g["cycle"], 10 * (F.l1_loss(v.G_BA(fake_b), a) + F.l1_loss(v.G_AB(fake_a), b)))
        assert torch.allclose(g["identity"], 5 * (F.l1_loss(v.G_AB(b), b) + F.l1_loss(v.G_BA(a), a)))
        d = v.discriminator_loss(domain_batch).losses  # the buffer passes a first batch through unchanged
        real_b, fake_scores = v.D_B(b), v.D_B(fake_b)
        assert torch.allclose(
            d["adv_B"],
            0.5 * F.mse_loss(real_b, torch.ones_like(real_b))
            + 0.5 * F.mse_loss(fake_scores, torch.zeros_like(fake_scores)),
        )


def test_stargan_losses_are_the_papers(domain_batch):
    """Choi et al. 2018, eq. 5-7: G pays -D_src(fake) + 1 * CE(target) + 10 * L1(reconstruction - input)."""
    v = build("stargan", "wasserstein-gp", DOMAINS, {}).variant
    torch.manual_seed(3)
    g = v.generator_loss(domain_batch).losses
    torch.manual_seed(3)
    target = domain_batch.y[torch.randperm(6)]
    with torch.no_grad():
        fake = v._g(domain_batch.x, target)
        scores, logits = v.D(fake)
        assert torch.allclose(g["adv"], -scores.mean())
        assert torch.allclose(g["domain_cls"], F.cross_entropy(logits, target))
        assert torch.allclose(g["reconstruction"], 10 * (v._g(fake, domain_batch.y) - domain_batch.x).abs().mean())
