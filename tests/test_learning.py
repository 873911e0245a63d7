"""Every variant (with its default divergence) and every divergence (with GAN's MLPs) learns: a short
run on digits lowers the classifier FID against the untrained generator, with a fixed seed."""

import pytest
import torch

from ganzoo import IncompatibleData, Samples, registry
from ganzoo.config import default_cache_dir
from ganzoo.data import BatchSampler
from ganzoo.factory import VariantSpec, create_variant
from ganzoo.trainer import Trainer

STEPS = 300


@pytest.fixture(scope="module")
def digits_and_fid():
    data = registry.datasets.get("digits").load(name="digits", data_dir=None, split="all", download=False)
    return data, registry.metrics.get("fidelity")(data=data, device=torch.device("cpu"), cache_dir=default_cache_dir())


def fid_before_and_after(variant_name, divergence_name, data, metric):
    torch.manual_seed(0)
    built = create_variant(VariantSpec(variant_name, variant_name, divergence_name), data.info)
    variant = built.variant
    trainer = Trainer(variant, BatchSampler(data, seed=0, device=torch.device("cpu")), built.training)

    def fid():
        y = torch.arange(metric.n) % data.info.num_classes if variant.conditional else None
        variant.train(False)
        x = variant.generate(metric.n, generator=torch.Generator().manual_seed(1), y=y)
        variant.train(True)
        return metric.compute(Samples(x, y))["fid"]

    before = fid()
    for _ in range(STEPS):
        trainer.step()
    return before, fid()


def _digits_ok(name):
    try:
        registry.variants.get(name).check_data("digits", registry.datasets.get("digits").info)
        return True
    except IncompatibleData:
        return False


CASES = [
    (v, registry.variants.get(v).default_divergence if registry.variants.get(v).adversarial else "none")
    for v in registry.variants.names()
    if _digits_ok(v)
]  # translation variants: tests/test_translation.py
CASES += [("gan", d) for d in registry.divergences.names() if d != "energy-margin" and ("gan", d) not in CASES]


@pytest.mark.parametrize("variant, divergence", CASES)
def test_short_run_lowers_fid(variant, divergence, digits_and_fid):
    before, after = fid_before_and_after(variant, divergence, *digits_and_fid)
    assert after < 0.8 * before, (before, after)


def test_cgan_generates_the_class_it_is_asked_for(digits_and_fid):
    data, _ = digits_and_fid
    torch.manual_seed(0)
    built = create_variant(VariantSpec("cgan", "cgan", "nonsaturating"), data.info)
    variant = built.variant
    trainer = Trainer(variant, BatchSampler(data, seed=0, device=torch.device("cpu")), built.training)
    classes = registry.metrics.get("classes")(data=data, device=torch.device("cpu"), cache_dir=default_cache_dir())
    y = torch.arange(1000) % 10

    def accuracy():
        variant.train(False)
        x = variant.generate(len(y), generator=torch.Generator().manual_seed(1), y=y)
        variant.train(True)
        return classes.compute(Samples(x, y))["cond_accuracy"]

    before = accuracy()
    for _ in range(1500):
        trainer.step()
    after = accuracy()
    assert before < 0.3 and after > 0.6, (before, after)
