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
