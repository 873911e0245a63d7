import pytest

from ganzoo.budget import Budget, BudgetError, EvalSchedule, Spent


@pytest.mark.parametrize(
    "text, measure, amount",
    [
        ("2000steps", "steps", 2000),
        ("1step", "steps", 1),
        ("50kimg", "images", 50_000),
        ("1mimg", "images", 1_000_000),
        ("300s", "seconds", 300),
        ("5m", "seconds", 300),
        ("1.5h", "seconds", 5400),
        ("640img", "images", 640),
    ],
)
def test_parse_forms(text, measure, amount):
    b = Budget.parse(text)
    assert (b.measure, b.amount) == (measure, amount)


@pytest.mark.parametrize("text", ["", "300", "300x", "steps", "-5s", "0steps", "1.5steps", "5 parsecs"])
def test_malformed_budget_names_the_value_and_the_forms(text):
    with pytest.raises(BudgetError) as err:
        Budget.parse(text)
    assert repr(text) in str(err.value)


def test_spent_and_fraction_use_the_budget_measure():
    b = Budget.parse("100steps")
    assert not b.spent(Spent(steps=99, images=10**9, seconds=1e9))
    assert b.spent(Spent(steps=100))
    assert b.fraction(Spent(steps=25)) == 0.25
    assert Budget.parse("10s").spent(Spent(steps=0, seconds=10.0))


def test_schedule_fires_once_per_interval_even_when_jumping():
    sched = EvalSchedule(Budget.parse("10steps"))
    fired = [s for s in range(1, 35) if sched.due(Spent(steps=s))]
    assert fired == [10, 20, 30]
    sched = EvalSchedule(Budget.parse("100img"))
    assert sched.due(Spent(images=250)) and not sched.due(Spent(images=290)) and sched.due(Spent(images=300))


def test_default_split_rounds_up_whole_units():
    assert Budget.parse("10steps").split(4).amount == 3
    assert Budget.parse("60s").split(4).amount == 15.0
