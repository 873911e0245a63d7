"""The house's shape (docs/architecture.md): no import circles in ganzoo, each stage of a bench imports only
the stages below it, the configuration and the presets import nothing above them, the conformance kit and
evaluation never import the planner, and the CLI starts without torch, pandas or a plugin."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict

from conftest import REPO

# a bench's stages, lowest first: data flows up this list as a config, down it as a resolved plan, and back as rows
STAGES = [
    "ganzoo.config",
    "ganzoo.presets",
    "ganzoo.factory",
    "ganzoo.evaluation",
    "ganzoo.plan",
    "ganzoo.trial",
    "ganzoo.executor",
    "ganzoo.runner",
    "ganzoo.scoring",
    "ganzoo.cli",
]


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def import_graph() -> dict[str, set[str]]:
    """Module -> the ganzoo modules it imports anywhere in its code (at the top or inside a function), leaving
    out imports under ``if TYPE_CHECKING:``, which never run."""
    root = REPO / "ganzoo"
    modules = {}
    for f in root.rglob("*.py"):
        name = ".".join(f.relative_to(REPO).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = f
    graph: dict[str, set[str]] = defaultdict(set)
    for name, f in modules.items():
        tree = ast.parse(f.read_text())
        skipped = {id(n) for node in ast.walk(tree) if _type_checking(node) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ganzoo"):
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, or None."""
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> list[str] | None:
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m) :] + [m]
            if m not in state:
                found = visit(m, path + [m])
                if found:
                    return found
        state[n] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for m in graph.get(todo.pop(), ()):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


def test_no_import_circles():
    assert cycle(import_graph()) is None


def test_the_circle_finder_finds_one():  # the wrong house: presets and the planner importing each other
    graph = import_graph()
    graph["ganzoo.presets"].add("ganzoo.plan")
    assert cycle(graph) is not None


def test_each_stage_imports_only_stages_below_it():
    graph = import_graph()
    for i, stage in enumerate(STAGES):
        above = set(STAGES[i + 1 :]) & reach(graph, stage)
        assert not above, f"{stage} reaches {sorted(above)}, which sit above it"


# every module of ganzoo/ in one layer (docs/architecture.md); a module imports only its own layer and those below
LAYERS = {
    "foundation": {
        "ganzoo",
        "ganzoo.params",
        "ganzoo.budget",
        "ganzoo.events",
        "ganzoo.lock",
        "ganzoo.device",
        "ganzoo.results",
        "ganzoo.registry",
        "ganzoo.config",
        "ganzoo.presets",
        "ganzoo.fingerprint",
    },
    "library": {
        "ganzoo.data",
        "ganzoo.divergence",
        "ganzoo.packing",
        "ganzoo.training",
        "ganzoo.variant",
        "ganzoo.trainer",
        "ganzoo.samples",
        "ganzoo.translation",
        "ganzoo.metrics",
        "ganzoo.metrics.*",
    },
    "reading": {"ganzoo.report", "ganzoo.report.*", "ganzoo.page", "ganzoo.board", "ganzoo.display"},
    "building": {"ganzoo.factory", "ganzoo.evaluation", "ganzoo.trial_spec", "ganzoo.testing", "ganzoo.scaffold"},
    "planning": {"ganzoo.plan", "ganzoo.search"},
    "running": {"ganzoo.trial", "ganzoo.executor", "ganzoo.runner"},
    "commands": {
        "ganzoo.score_request",
        "ganzoo.score_inputs",
        "ganzoo.scoring",
        "ganzoo.cli",
        "ganzoo.cli.*",
        "ganzoo.__main__",
    },
}


def layer_of(module: str) -> int | None:
    for rank, members in enumerate(LAYERS.values()):
        if module in members or any(m.endswith(".*") and module.startswith(m[:-1]) for m in members):
            return rank
    return None


def imports_upwards(graph: dict[str, set[str]]) -> list[str]:
    """Each import from a module to one in a higher layer, as 'a -> b'."""
    return [f"{a} -> {b}" for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a)]


def test_every_module_has_a_layer_and_imports_only_downwards():
    graph = import_graph()
    modules = set(graph) | {m for targets in graph.values() for m in targets}
    modules |= {
        ".".join(f.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for f in (REPO / "ganzoo").rglob("*.py")
    }
    unplaced = sorted(m for m in modules if layer_of(m) is None)
    assert not unplaced, f"modules in no layer of LAYERS: {unplaced}"
    assert not imports_upwards(graph)
    graph["ganzoo.metrics.features"].add("ganzoo.plan")  # the wrong house: a metric reaching up to the planner
    assert imports_upwards(graph) == ["ganzoo.metrics.features -> ganzoo.plan"]


def test_configuration_and_presets_import_nothing_above_them():
    graph = import_graph()
    assert reach(graph, "ganzoo.config") <= {"ganzoo.budget"}
    assert reach(graph, "ganzoo.presets") <= {"ganzoo.config", "ganzoo.budget"}


def test_kit_and_evaluation_never_import_the_planner():
    graph = import_graph()
    for module in ("ganzoo.testing", "ganzoo.evaluation", "ganzoo.trainer", "ganzoo.factory"):
        assert not {"ganzoo.plan", "ganzoo.runner", "ganzoo.executor"} & reach(graph, module), module


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_the_cli_starts_without_torch_pandas_or_a_plugin():
    loaded = _loaded_after("import ganzoo.cli")
    heavy = {
        m
        for m in loaded
        if m.split(".")[0] in ("torch", "pandas", "torchvision", "torch_fidelity", "scipy", "ganzoo_plugins")
    }
    assert not heavy, sorted(heavy)[:5]


def test_public_api_loads_on_use():
    loaded = _loaded_after(
        "import ganzoo; assert ganzoo.__version__\nfrom ganzoo import Variant, Metric\nassert Variant.__name__ == 'Variant'"
    )
    assert "torch" in loaded and "ganzoo.variant" in loaded  # the names still resolve to the real classes
    assert "torch" not in _loaded_after("import ganzoo; ganzoo.__version__")


def test_metric_directions_are_read_without_importing_the_metrics():
    loaded = _loaded_after(
        "from ganzoo import report\nd = report.metric_directions()\nassert d['fid'] == 'lower' and d['modes'] == 'higher', d"
    )
    assert "torch" not in loaded


def _reads_of_config(source: str) -> list[int]:
    """Lines where ``source`` reads an attribute named ``config`` off anything (``p.config.out``, ``self.p.config``)."""
    return [n.lineno for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Attribute) and n.attr == "config"]


def test_a_trial_and_its_executors_read_only_the_resolved_plan():
    """The trial reads its own spec and never the planner; the executors read the plan's resolved fields, never the
    config behind it. The wrong version (a trial that reaches back to ``p.config``) is caught."""
    for module in ("trial", "executor", "evaluation"):
        source = (REPO / "ganzoo" / f"{module}.py").read_text()
        assert not _reads_of_config(source), f"ganzoo/{module}.py reads .config at lines {_reads_of_config(source)}"
    trial = (REPO / "ganzoo" / "trial.py").read_text()
    assert "from ganzoo.trial_spec import TrialSpec\n" in trial and "ganzoo.plan" not in trial
    assert _reads_of_config(trial + "\nout = p.config.out\n")


def test_the_runner_prints_nothing():
    """The runner reports through its callback (ganzoo.events); only the CLI and its display print."""
    tree = ast.parse((REPO / "ganzoo" / "runner.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "rich" not in imported and "print" not in calls
