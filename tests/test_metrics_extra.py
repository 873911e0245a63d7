"""Density/coverage against the reference package, class metrics, feature spaces and Inception loading."""

import math

import numpy as np
import pytest
import torch

from ganzoo import Samples, registry
from ganzoo.config import default_cache_dir
from ganzoo.metrics.classes import histogram_kl
from ganzoo.metrics.features import FeatureSpaceError, feature_space, inception_space, vgg16_space
from ganzoo.metrics.fidelity import density_coverage


def test_density_coverage_match_the_prdc_package():
    prdc = pytest.importorskip("prdc")
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 16)).astype(np.float32)
    fake = (rng.normal(size=(300, 16)) * 1.3 + 0.4).astype(np.float32)
    expected = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
    ours = density_coverage(torch.from_numpy(real).double(), torch.from_numpy(fake).double(), k=5)
    assert ours["density"] == pytest.approx(float(expected["density"]), rel=1e-6)
    assert ours["coverage"] == pytest.approx(float(expected["coverage"]), rel=1e-6)


def test_density_coverage_check_shapes():
    with pytest.raises(ValueError, match="features must be"):
        density_coverage(torch.zeros(5, 3), torch.zeros(5, 4))


def test_histogram_kl_closed_forms():
    ref = torch.arange(10).repeat(10)  # uniform over 10 classes
    assert histogram_kl(ref, ref, 10) == pytest.approx(0.0)
    assert histogram_kl(torch.zeros(50, dtype=torch.long), ref, 10) == pytest.approx(math.log(10))
    assert histogram_kl(torch.tensor([3]), torch.tensor([1, 2]), 10) == math.inf


@pytest.fixture(scope="module")
def digits():
    return registry.datasets.get("digits").load(name="digits", data_dir=None, split="all", download=False)


def test_class_metrics_on_real_and_collapsed_samples(digits):
    metric = registry.metrics.get("classes")(data=digits, device=torch.device("cpu"), cache_dir=default_cache_dir())
    real = metric.compute(Samples(digits.x, digits.y))
    assert real["classes_covered"] == 10 and real["class_kl"] < 0.05
    assert real["cond_accuracy"] > 0.9  # the real label is what the classifier says
    assert 7 < real["class_score"] <= 10  # near the number of classes for sharp, balanced predictions
    sevens = digits.x[digits.y == 7]
    collapsed = metric.compute(Samples(sevens))
    assert collapsed["classes_covered"] <= 3 and collapsed["class_kl"] > 1.5 and collapsed["class_score"] < 2
    assert "cond_accuracy" not in collapsed
    assert metric.provenance()["features"] == "classifier"


@pytest.mark.parametrize(
    "make, needles",
    [
        (
            inception_space,
            ("--inception-weights", "weights-inception-2015-12-05-6726825d.pth", "--features classifier"),
        ),
        (vgg16_space, ("--features-weights", "vgg16-397923af.pth", "--features classifier")),
    ],
)
def test_a_pretrained_space_offline_without_weights_says_how_to_get_them(tmp_path, monkeypatch, make, needles):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(FeatureSpaceError) as err:
        make(None, tmp_path / "cache")
    assert all(n in str(err.value) for n in needles), str(err.value)


def test_inception_weights_file_is_checked_before_use(tmp_path):
    bad = tmp_path / "bad.pth"
    torch.save({"conv.weight": torch.zeros(3)}, bad)
    with pytest.raises(FeatureSpaceError, match="inception-v3-compat"):
        inception_space(bad, tmp_path / "cache")
    with pytest.raises(FeatureSpaceError, match="does not exist"):
        inception_space(tmp_path / "missing.pth", tmp_path / "cache")


def test_inception_feature_space_from_a_local_weights_file(tmp_path, digits, random_inception_weights):
    """A weights file the test writes (random values, the real layer shapes) goes through the whole
    path: weights_only check, plain-tensor copy, torch-fidelity's inception-v3-compat, 2048 features."""
    path = random_inception_weights
    space = feature_space("inception", digits, tmp_path / "cache", torch.device("cpu"), inception_weights=path)
    assert space.name == "inception" and space.provenance()["resize"].startswith("bilinear to 299")
    x = space.prepare(digits.x[:2])
    assert x.dtype == torch.uint8 and x.shape == (2, 3, 8, 8)
    feats = space.extract(digits.x[:2], torch.device("cpu"))
    assert feats.shape == (2, 2048) and torch.isfinite(feats).all()
    feats2, logits = space.extract_with_logits(digits.x[:2], torch.device("cpu"))
    assert torch.equal(feats, feats2) and logits.shape == (2, 1008)  # one pass gives the Inception Score's logits


def test_inception_score_is_the_mean_over_ten_splits_of_exp_kl_from_the_marginal():
    """Written from Salimans et al.: per split, exp(mean_x KL(p(y|x) || p(y))) with p(y) that split's marginal; the
    mean over the splits. The classic wrong versions: one split over all samples, and the KL reversed."""
    from ganzoo.metrics.fidelity import inception_score

    gen = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(200, 1008, generator=gen) + torch.linspace(0, 6, 1008)

    def score(lg, splits, reverse=False):
        out = []
        for part in lg.double().chunk(splits):
            p = part.softmax(1)
            py = p.mean(0, keepdim=True)
            kl = (py * (py.log() - p.log())).sum(1) if reverse else (p * (p.log() - py.log())).sum(1)
            out.append(kl.mean().exp())
        return float(torch.stack(out).mean())

    right = score(logits, 10)
    assert inception_score(logits) == pytest.approx(right, rel=1e-4)
    for wrong in (score(logits, 1), score(logits, 10, reverse=True)):
        assert abs(wrong - right) > 1e-2 * right


def test_inception_refuses_points():
    ring = registry.datasets.get("ring8").load(name="ring8", data_dir=None, split="auto", download=False)
    with pytest.raises(FeatureSpaceError, match="needs images"):
        feature_space("inception", ring, default_cache_dir(), torch.device("cpu"))


def test_vgg16_weights_are_checked_before_torch_fidelity_unpickles_them(tmp_path):
    """torch-fidelity opens the file with weights_only=False: a foreign file (Inception's shapes) and a pickle are
    refused first, in one line."""
    foreign = tmp_path / "inception.pth"
    torch.save({"fc.weight": torch.zeros(1008, 2048)}, foreign)
    with pytest.raises(FeatureSpaceError, match="VGG-16 weights"):
        vgg16_space(foreign, tmp_path / "cache")
    pickled = tmp_path / "pickled.pth"
    torch.save({"classifier.3.weight": torch.zeros(4096, 4096), "x": __import__("argparse").Namespace(a=1)}, pickled)
    with pytest.raises(FeatureSpaceError, match="weights_only=True"):
        vgg16_space(pickled, tmp_path / "cache")


@pytest.mark.slow
def test_vgg16_feature_space_from_a_local_weights_file(tmp_path, digits):
    """Random weights in torchvision's VGG-16 shapes through the whole path: checked, copied as plain tensors,
    torch-fidelity's vgg16 extractor, 4,096 features after the ReLU (so none negative), provenance said."""
    import torchvision

    torch.manual_seed(0)
    weights = tmp_path / "vgg16-397923af.pth"
    torch.save(torchvision.models.vgg16().state_dict(), weights)
    space = feature_space("vgg16", digits, tmp_path / "cache", torch.device("cpu"), weights)
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    f = space.extract(x, torch.device("cpu"))
    assert f.shape == (4, 4096) and (f >= 0).all() and f.abs().sum() > 0
    assert space.provenance()["features"] == "vgg16" and "224x224" in space.provenance()["resize"]
