"""The runner: a bench as a library call that reports through one callback and returns what it did."""

from __future__ import annotations

from ganzoo.config import BenchConfig
from ganzoo.events import BenchFinished, Message, TrialDone, TrialProgress, TrialsStarting
from ganzoo.results import read_results
from ganzoo.runner import run_bench


def test_the_runner_reports_through_its_callback_and_prints_nothing(tmp_path, capfd):
    events = []
    out = tmp_path / "o"
    outcome = run_bench(
        BenchConfig(variants=["gan"], dataset="ring8", budget="20steps", seeds=[0, 1], metrics=["modes"], out=out),
        on_event=events.append,
    )
    printed = capfd.readouterr()
    assert printed.out == "" and printed.err == ""
    assert isinstance(events[0], Message) and events[0].text.startswith("ganzoo bench: 2 trial(s) on ring8")
    starting = next(e for e in events if isinstance(e, TrialsStarting))
    assert [t.run_id for t in starting.trials] == [
        "gan-minimax-s0",
        "gan-minimax-s1",
    ] and starting.budget_left.startswith("20")
    last = [e for e in events if isinstance(e, TrialProgress) and e.run_id == "gan-minimax-s1"][-1]
    assert (last.step, last.fraction) == (20, 1.0)
    assert [e for e in events if isinstance(e, TrialDone)] == [
        TrialDone("gan-minimax-s0", "ok"),
        TrialDone("gan-minimax-s1", "ok"),
    ]
    assert events[-1] == BenchFinished("finished", {"gan-minimax-s0": "ok", "gan-minimax-s1": "ok"})
    assert outcome.status == "finished" and outcome.out == out and outcome.measure == "steps" and outcome.failed.empty
    assert "modes" in outcome.summary_metrics
    assert len(outcome.frame) == len(read_results(out))
