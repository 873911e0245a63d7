"""docs/plugins.md's Python blocks run, in order, in one namespace: the tutorial stays true."""

import re

from conftest import REPO

from ganzoo import registry


def test_the_plugin_tutorial_runs(fresh_registries):
    text = (REPO / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"docs/plugins.md block {i + 1}", "exec"), namespace)
    finally:
        for kind, name in (
            ("datasets", "tutorial-moons"),
            ("divergences", "tutorial-ls"),
            ("variants", "tutorial-gan"),
            ("metrics", "tutorial-balance"),
        ):
            registry.REGISTRIES[kind].unregister(name)
    assert "gaps" in namespace and len(namespace["gaps"]) >= 2


def test_the_readme_variant_trains_as_a_bench_builds_it(fresh_registries):
    """The README's 30-line variant registers, builds through the one factory and takes training steps that move
    both players; its line count stays what the README says."""
    import torch

    from ganzoo.data import BatchSampler
    from ganzoo.factory import VariantSpec, create_variant
    from ganzoo.trainer import Trainer

    text = (REPO / "README.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(block.strip().splitlines()) <= 40
    try:
        exec(compile(block, "README.md", "exec"), {})
        data = registry.datasets.get("digits").load(name="digits", data_dir=None, split="all", download=False)
        torch.manual_seed(0)
        built = create_variant(VariantSpec("tinygan", "tinygan", "nonsaturating", {"hidden": 32}), data.info)
        v = built.variant
        before = [p.detach().clone() for net in (v.G, v.D) for p in net.parameters()]
        trainer = Trainer(v, BatchSampler(data, seed=0, device=torch.device("cpu")), built.training)
        for _ in range(3):
            d_out, g_out, _ = trainer.step()
        after = [p.detach() for net in (v.G, v.D) for p in net.parameters()]
        assert all(not torch.equal(a, b) for a, b in zip(before[:1] + before[-1:], after[:1] + after[-1:]))
        assert torch.isfinite(d_out.total) and torch.isfinite(g_out.total) and built.training.lr == 2e-4
    finally:
        registry.variants.unregister("tinygan")
