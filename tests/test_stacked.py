import math

import numpy as np
import pytest
import torch

from conftest import SHARED_MNIST
from ganzoo import Samples, registry
from ganzoo.metrics.stacked import channel_digits, stacked_mode_stats
from test_data import write_idx


def test_stacked_mode_stats_closed_forms():
    all_modes = torch.stack([torch.arange(1000) // 100, torch.arange(1000) // 10 % 10, torch.arange(1000) % 10], 1)
    assert stacked_mode_stats(all_modes) == {"stacked_modes": 1000.0, "stacked_kl": pytest.approx(0.0)}
    one = torch.tensor([[3, 1, 4]] * 50)
    assert stacked_mode_stats(one) == {"stacked_modes": 1.0, "stacked_kl": pytest.approx(math.log(1000))}
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        stacked_mode_stats(torch.zeros(4, 2, dtype=torch.long))


def test_stacked_mnist_is_built_from_the_mnist_split_given(tmp_path):
    labels = np.arange(20) % 10
    images = np.stack([np.full((28, 28), 10 * d + i, np.uint8) for i, d in enumerate(labels)])  # each image unique
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels, True)
    data = registry.datasets.get("stacked-mnist").load(name="stacked-mnist", data_dir=tmp_path, split="auto", download=False)
    assert data.split == "test" and data.x.shape[1:] == (3, 28, 28) and data.info.num_classes == 1000
    pixel = ((data.x[:, :, 0, 0] + 1) * 127.5).round().long()  # which source image each channel came from
    source = {int(v): int(d) for v, d in zip(images[:, 0, 0], labels)}
    digits = pixel.apply_(lambda v: source[v])
    assert torch.equal(data.y, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2])
    channels = channel_digits(data)
    assert channels.x.shape == (3 * len(data), 1, 28, 28) and torch.equal(channels.y.reshape(-1, 3), digits)


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="needs the shared MNIST test split")
def test_real_stacked_mnist_scores_nearly_all_modes():
    data = registry.datasets.get("stacked-mnist").load(name="stacked-mnist", data_dir=SHARED_MNIST, split="auto", download=False)
    from ganzoo.runner import default_cache_dir

    metric = registry.metrics.get("stacked")(data=data, device=torch.device("cpu"), cache_dir=default_cache_dir())
    out = metric.compute(Samples(data.x[torch.randint(len(data), (26_000,), generator=torch.Generator().manual_seed(1))]))
    assert out["stacked_modes"] > 950 and out["stacked_kl"] < 0.2
