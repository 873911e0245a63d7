import math

import numpy as np
import pytest
import torch
from scipy import linalg

from ganzoo import Samples, registry
from ganzoo.metrics.classifier import classifier_path, load_classifier
from ganzoo.metrics.modes import mode_stats
from ganzoo.runner import default_cache_dir


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
    assert metric.compute(Samples(data.x[:2500])) == {"modes": 8.0, "hq_share": pytest.approx(1 - math.exp(-4.5), abs=0.006),
                                                      "mode_kl": pytest.approx(0.0, abs=0.01)}
    collapsed = metric.compute(Samples(data.x[data.y == 3][:2500]))
    assert collapsed["modes"] == 1.0 and collapsed["mode_kl"] == pytest.approx(math.log(8))  # all mass on one of 8 modes


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
    real = data.x[torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[: fid.n]]
    same = fid.compute(Samples(real))["fid"]
    assert abs(same) < 1e-3
    half = fid.compute(Samples(data.x[torch.randperm(len(data), generator=torch.Generator().manual_seed(1))[:900]]))["fid"]
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
    real = torch.randn(3000, 32, generator=g, dtype=torch.float64) @ torch.randn(32, 32, generator=g, dtype=torch.float64)
    fake = torch.randn(2000, 32, generator=g, dtype=torch.float64) * 1.5 + 0.3
    f1, f2 = fake.numpy(), real.numpy()
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    reference = float(((f1.mean(0) - f2.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real))
    assert fid_from_features(fake, fid_features_to_statistics(real)) == pytest.approx(reference, rel=1e-6)
