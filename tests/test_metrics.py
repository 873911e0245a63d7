import math

import numpy as np
import pytest
import torch
from scipy import linalg

from ganzoo import Samples, registry
from ganzoo.config import default_cache_dir
from ganzoo.metrics.classifier import classifier_path, load_classifier
from ganzoo.metrics.modes import mode_stats


def load(name):
    return registry.datasets.get(name).load(name=name, data_dir=None, split="auto", download=False)


def test_mode_stats_on_known_points():
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.tensor([[0.01, 0.0], [0.0, -0.02], [10.02, 0.0], [5.0, 5.0]])  # two near mode 0, one near 1, one lost
    out = mode_stats(x, centres, std=0.01)
    assert out["modes"] == 2.0 and out["hq_share"] == 0.75
    with pytest.raises(ValueError, match="shape"):
        mode_stats(torch.zeros(3, 3), centres, 0.01)


def test_mixture_metric_scores_real_data_perfectly_and_collapse_poorly(tmp_path):
    data = load("ring8")
    metric = registry.metrics.get("modes")(data=data, device=torch.device("cpu"), cache_dir=tmp_path)
    # real samples: every mode, and the 2-D Gaussian mass within 3 std, 1 - exp(-9/2) = 0.989
    assert metric.compute(Samples(data.x[:2500])) == {
        "modes": 8.0,
        "hq_share": pytest.approx(1 - math.exp(-4.5), abs=0.006),
        "reverse_kl": pytest.approx(0.0, abs=0.01),
    }
    collapsed = metric.compute(Samples(data.x[data.y == 3][:2500]))
    assert collapsed["modes"] == 1.0 and collapsed["reverse_kl"] == pytest.approx(
        math.log(8)
    )  # all mass on one of 8 modes


def test_reverse_kl_counts_high_quality_samples_only_as_pacgan_does():
    """PacGAN's histogram holds the high-quality samples: 100 on mode 0 and 700 far from every mode
    (each nearest a different mode) is a collapse onto mode 0, reverse KL log 3, not a spread."""
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    on_mode = torch.randn(100, 2, generator=torch.Generator().manual_seed(0)) * 0.01
    far = (centres + 0.5).repeat(234, 1)[:700]  # 50 std from its nearest mode, spread over all three
    out = mode_stats(torch.cat([on_mode, far]), centres, std=0.01)
    assert out["modes"] == 1.0 and out["reverse_kl"] == pytest.approx(math.log(3))
    assert math.isnan(mode_stats(far, centres, std=0.01)["reverse_kl"])  # no high-quality sample: undefined


@pytest.fixture(scope="module")
def digits_fid():
    data = load("digits")
    return data, registry.metrics.get("fidelity")(data=data, device=torch.device("cpu"), cache_dir=default_cache_dir())


def test_classifier_is_cached_and_loads_weights_only(digits_fid):
    data, fid = digits_fid
    path = classifier_path(data, fid.cache_dir)
    assert path == fid.space.weights and path.exists()
    model, meta = load_classifier(path)  # weights_only=True inside
    assert meta["accuracy"] > 0.9  # a classifier whose features mean something
    again = registry.metrics.get("fidelity")(data=data, device=torch.device("cpu"), cache_dir=fid.cache_dir)
    assert again.space.weights_sha256 == fid.space.weights_sha256  # reused, not retrained
    assert torch.equal(again.real, fid.real)  # real features cached


def test_fid_of_real_with_itself_is_zero_and_noise_is_far(digits_fid):
    data, fid = digits_fid
    same = fid.compute(Samples(data.x[fid.reference_idx]))["fid"]
    assert abs(same) < 1e-3
    half = fid.compute(Samples(data.x[torch.randperm(len(data), generator=torch.Generator().manual_seed(1))[:900]]))[
        "fid"
    ]
    noise = fid.compute(Samples(torch.rand(fid.n, 1, 8, 8) * 2 - 1))["fid"]
    assert half < noise / 10, (half, noise)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # dead ReLU units: singular covariances
def test_fid_matches_a_scipy_reference_on_the_same_features(digits_fid):
    data, fid = digits_fid
    model, _ = load_classifier(fid.space.weights)
    fake = torch.tanh(torch.randn(600, 1, 8, 8, generator=torch.Generator().manual_seed(2)))
    with torch.no_grad():
        f1, f2 = model.features(fake).double().numpy(), fid.real.numpy()
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    reference = float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))
    assert fid.compute(Samples(fake))["fid"] == pytest.approx(reference, rel=1e-4)


def test_fid_matches_scipy_to_1e6_on_well_conditioned_features():
    from torch_fidelity.metric_fid import fid_features_to_statistics

    from ganzoo.metrics.fidelity import fid_from_features

    g = torch.Generator().manual_seed(3)
    real = torch.randn(3000, 32, generator=g, dtype=torch.float64) @ torch.randn(
        32, 32, generator=g, dtype=torch.float64
    )
    fake = torch.randn(2000, 32, generator=g, dtype=torch.float64) * 1.5 + 0.3
    f1, f2 = fake.numpy(), real.numpy()
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    reference = float(((f1.mean(0) - f2.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real))
    assert fid_from_features(fake, fid_features_to_statistics(real)) == pytest.approx(reference, rel=1e-6)


def test_fid_reference_is_held_out_from_the_feature_classifier_and_memorising_is_not_rewarded():
    """The classifier is trained on images disjoint from the FID reference, and images it trained on score
    no better than real images nobody saw (with the reference among its training images, 179 unseen digits
    scored 52 against 27-34 for seen ones). Means over 8 draws of 300: one FID of 300 varies by ~25%."""
    from ganzoo.metrics.fidelity import FidelityMetrics

    data = load("digits")
    # 300 leaves held-out images outside the reference
    fid = FidelityMetrics(data=data, device=torch.device("cpu"), cache_dir=default_cache_dir(), max_samples=300)
    pool, reference = set(fid.space.reference_pool.tolist()), set(fid.reference_idx.tolist())
    trained_on = torch.tensor(sorted(set(range(len(data))) - pool))
    unseen = torch.tensor(sorted(pool - reference))
    assert reference <= pool and not reference & set(trained_on.tolist())
    means = {}
    for name, source in (("unseen", unseen), ("seen", trained_on)):
        draws = [
            source[torch.randperm(len(source), generator=torch.Generator().manual_seed(s))[:300]] for s in range(8)
        ]
        means[name] = np.mean([fid.compute(Samples(data.x[idx]))["fid"] for idx in draws])
    assert means["unseen"] <= 1.15 * means["seen"], means
    assert "held out from the feature classifier" in fid.provenance()["reference"]


def test_precision_and_recall_are_oriented_as_the_paper(digits_fid):
    """Kynkäänniemi et al.: precision = share of generated samples on the real manifold, recall = share of
    real samples on the generated one. A generator collapsed onto one real class: precision ~ 1, recall ~ 0.1."""
    data, fid = digits_fid
    ones = fid.reference_idx[data.y[fid.reference_idx] == 1]
    out = fid.compute(
        Samples(
            data.x[ones].repeat(3, 1, 1, 1)
            + 0.01 * torch.randn(3 * len(ones), 1, 8, 8, generator=torch.Generator().manual_seed(0))
        )
    )
    assert out["precision"] > 0.9 and 0.03 < out["recall"] < 0.2, out
