"""Budgets: every accepted form, canonical text that reads back, one-line errors, Optuna's sign convention."""

from __future__ import annotations

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hypothesis import given
from hypothesis import strategies as st
from omegaconf import OmegaConf

from nas.errors import SpecError, UsageError
from nas.study import FORMS, Budget, BudgetError, Metric, describe, needs_latency, parse_budget

MACS, PARAMS, LATENCY = Metric.MACS, Metric.PARAMS, Metric.LATENCY


@pytest.mark.parametrize(
    ("text", "metric", "limit"),
    [
        ("300MFLOPs", MACS, 300_000_000),
        ("0.3GFLOPs", MACS, 300_000_000),
        ("300 MFLOPs", MACS, 300_000_000),
        ("  300   MFLOPs ", MACS, 300_000_000),
        ("300mflops", MACS, 300_000_000),
        ("300MFLOPS", MACS, 300_000_000),
        ("300MMACs", MACS, 300_000_000),
        ("300 mmacs", MACS, 300_000_000),
        ("300MMAdds", MACS, 300_000_000),
        ("300mmadds", MACS, 300_000_000),
        ("1.5GMACs", MACS, 1_500_000_000),
        ("2.5KFLOPs", MACS, 2_500),
        ("2.5kflops", MACS, 2_500),
        ("1000FLOPs", MACS, 1_000),
        ("1000 MACs", MACS, 1_000),
        ("1000MAdds", MACS, 1_000),
        ("5Mparams", PARAMS, 5_000_000),
        ("5 mparams", PARAMS, 5_000_000),
        ("5MPARAMS", PARAMS, 5_000_000),
        ("0.25Gparams", PARAMS, 250_000_000),
        ("7Kparams", PARAMS, 7_000),
        ("123params", PARAMS, 123),
        ("25ms", LATENCY, 25),
        ("25 ms", LATENCY, 25),
        ("25MS", LATENCY, 25),
        ("12.5ms", LATENCY, 12.5),
        (".5ms", LATENCY, 0.5),
        ("0.75 Ms", LATENCY, 0.75),
    ],
)
def test_every_accepted_form(text: str, metric: Metric, limit: float) -> None:
    assert parse_budget(text) == (Budget(metric, limit),)


@pytest.mark.parametrize(
    "value",
    [
        ["300MFLOPs", "5Mparams"],
        ("300MFLOPs", "5Mparams"),
        OmegaConf.create(["300MFLOPs", "5Mparams"]),  # what Hydra puts in the config
        "[300MFLOPs,5Mparams]",  # the list quoted on the command line
        "[ 300MFLOPs , 5Mparams ]",
        "300MFLOPs,5Mparams",
        ["0.3GFLOPs", "5000 Kparams"],
    ],
)
def test_lists_keep_their_order(value: object) -> None:
    assert parse_budget(value) == (Budget(MACS, 300e6), Budget(PARAMS, 5e6))  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, [], (), "[]", "[ ]"])
def test_no_budget(value: object) -> None:
    assert parse_budget(value) == ()  # type: ignore[arg-type]
    assert describe(parse_budget(value)) == "no budget"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("budget=300MFLOPs", (Budget(MACS, 300e6),)),
        ("budget=0.3GFLOPs", (Budget(MACS, 300e6),)),
        ("budget=25ms", (Budget(LATENCY, 25),)),
        ("budget=[300MFLOPs,5Mparams,25ms]", (Budget(MACS, 300e6), Budget(PARAMS, 5e6), Budget(LATENCY, 25))),
        ("budget='300 MFLOPs'", (Budget(MACS, 300e6),)),
        ("budget=null", ()),
    ],
)
def test_what_hydra_hands_over(override: str, expected: tuple[Budget, ...]) -> None:
    (parsed,) = OverridesParser.create().parse_overrides([override])
    assert parse_budget(parsed.value()) == expected


BAD = [
    "300MB",
    "300",
    "MFLOPs",
    "300 M FLOPs",
    "300TFLOPs",
    "300mFLOP s",
    "1e9FLOPs",
    "25s",
    "25 msec",
    "25Kms",
    "5 Mparams extra",
    "five ms",
    "",
    "3.0.0ms",
]


@pytest.mark.parametrize("text", BAD)
def test_an_unreadable_value_is_one_line_quoting_it(text: str) -> None:
    with pytest.raises(BudgetError) as info:
        parse_budget(text)
    message = str(info.value)
    assert message == f"budget: cannot read {text!r}; {FORMS}"
    assert "\n" not in message
    assert isinstance(info.value, UsageError)  # so that commands exit with status 2


def test_the_accepted_forms_are_shown() -> None:
    for form in ("300MFLOPs", "0.3GFLOPs", "5Mparams", "25ms", "[300MFLOPs,5Mparams]"):
        assert form in FORMS


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        (["300MFLOPs", "300MB"], "'300MB'"),
        ("[300MFLOPs,25 secs]", "'25 secs'"),
        ("300MFLOPs,", "''"),
        (300, "300"),  # budget=300: Hydra gives an int, and the unit is missing
        (1e9, "1000000000.0"),
        ([300], "300"),
        (True, "True"),
        ({"macs": 300}, "{'macs': 300}"),
        ("5Mparams\n25ms", "'5Mparams\\n25ms'"),
    ],
)
def test_a_bad_item_or_type_is_quoted(value: object, bad: str) -> None:
    with pytest.raises(BudgetError, match=r"^budget: cannot read (.+); expected forms like ") as info:
        parse_budget(value)  # type: ignore[arg-type]
    assert str(info.value) == f"budget: cannot read {bad}; {FORMS}"


@pytest.mark.parametrize(
    "text", ["0MFLOPs", "0ms", "0.0 Kparams", "-5ms", "-300MFLOPs", "1" + "0" * 400 + "ms"]
)
def test_a_limit_must_be_positive_and_finite(text: str) -> None:
    with pytest.raises(BudgetError) as info:
        parse_budget(["5Mparams", text])
    assert str(info.value) == f"budget: {text!r} is not a positive, finite limit; {FORMS}"


@pytest.mark.parametrize(
    ("value", "unit", "first", "second"),
    [
        (["300MFLOPs", "0.2GMACs"], "FLOPs", "300MFLOPs", "0.2GMACs"),
        (["5Mparams", "25ms", "3 Mparams"], "params", "5Mparams", "3 Mparams"),
        ("[25ms,25ms]", "ms", "25ms", "25ms"),
    ],
)
def test_two_limits_on_one_metric(value: object, unit: str, first: str, second: str) -> None:
    with pytest.raises(BudgetError) as info:
        parse_budget(value)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(f"budget: two limits on {unit}, {first!r} and {second!r}; ")
    assert "[300MFLOPs,5Mparams]" in message and "\n" not in message


@pytest.mark.parametrize(
    ("budget", "text"),
    [
        (Budget(MACS, 300e6), "300MFLOPs"),
        (Budget(MACS, 1.5e9), "1.5GFLOPs"),
        (Budget(MACS, 999_999), "999.999KFLOPs"),
        (Budget(MACS, 1_000), "1KFLOPs"),
        (Budget(MACS, 999), "999FLOPs"),
        (Budget(MACS, 0.5), "0.5FLOPs"),
        (Budget(MACS, 3e12), "3000GFLOPs"),
        (Budget(PARAMS, 5e6), "5Mparams"),
        (Budget(PARAMS, 3_504_872), "3.504872Mparams"),
        (Budget(LATENCY, 25), "25ms"),
        (Budget(LATENCY, 2500), "2500ms"),
        (Budget(LATENCY, 0.125), "0.125ms"),
    ],
)
def test_canonical_text(budget: Budget, text: str) -> None:
    assert str(budget) == text
    assert parse_budget(text) == (budget,)


limits = st.one_of(
    st.floats(min_value=0, max_value=1e15, exclude_min=True, allow_nan=False, allow_infinity=False),
    st.integers(1, 10**13).map(float),
)


@given(st.sampled_from(Metric), limits)
def test_canonical_text_round_trips(metric: Metric, limit: float) -> None:
    budget = Budget(metric, limit)
    text = str(budget)
    assert parse_budget(text) == (budget,)
    assert "e" not in text.lower()  # plain digits, never 3e+20
    assert parse_budget(f"[{text}]") == (budget,)


@given(
    st.integers(1, 10**6),
    st.sampled_from([("", 0), ("K", 3), ("k", 3), ("M", 6), ("m", 6), ("G", 9), ("g", 9)]),
    st.sampled_from([("FLOPs", MACS), ("macs", MACS), ("MAdds", MACS), ("PARAMS", PARAMS)]),
    st.sampled_from(["", " "]),
)
def test_prefixes_multiply_by_powers_of_ten(
    number: int, prefix: tuple[str, int], unit: tuple[str, Metric], space: str
) -> None:
    (budget,) = parse_budget(f"{number}{space}{prefix[0]}{unit[0]}")
    assert budget == Budget(unit[1], float(number * 10 ** prefix[1]))
    assert parse_budget(str(budget)) == (budget,)


def test_a_budget_is_validated_when_built_directly() -> None:
    assert Budget("params", 5) == Budget(PARAMS, 5.0)  # type: ignore[arg-type]
    for limit in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(SpecError, match=r"^limit: expected a finite value > 0"):
            Budget(MACS, limit)
    expected = r"^metric: expected one of 'macs', 'params', 'latency_ms'; got 'flops'$"
    with pytest.raises(SpecError, match=expected):
        Budget("flops", 5.0)  # type: ignore[arg-type]


def test_value_picks_the_metric() -> None:
    assert Budget(MACS, 1).value(macs=300, params=7, latency_ms=2.5) == 300
    assert Budget(PARAMS, 1).value(macs=300, params=7, latency_ms=2.5) == 7
    assert Budget(LATENCY, 1).value(macs=300, params=7, latency_ms=2.5) == 2.5
    assert Budget(MACS, 1).value(macs=300, params=7) == 300  # no latency needed for a count
    with pytest.raises(ValueError, match="25ms: needs a latency measurement"):
        Budget(LATENCY, 25).violation(macs=300, params=7, latency_ms=None)


def test_violation_is_relative_overshoot_and_nonpositive_when_feasible() -> None:
    flops, params, latency = Budget(MACS, 300e6), Budget(PARAMS, 5e6), Budget(LATENCY, 25)
    assert flops.violation(450_000_000, 0, None) == pytest.approx(0.5)
    assert flops.violation(300_000_000, 0, None) == 0.0
    assert flops.violation(150_000_000, 0, None) == pytest.approx(-0.5)
    assert params.violation(0, 2_500_000, None) == pytest.approx(-0.5)
    assert params.violation(0, 5_500_000, None) == pytest.approx(0.1)
    assert latency.violation(0, 0, 50.0) == pytest.approx(1.0)
    assert latency.violation(0, 0, 0.0) == pytest.approx(-1.0)  # never below -1: costs are >= 0


@given(st.sampled_from(Metric), st.floats(1e-3, 1e15), st.floats(0, 10))
def test_equal_relative_overshoot_reads_the_same_in_every_unit(
    metric: Metric, limit: float, ratio: float
) -> None:
    budget = Budget(metric, limit)
    measured = limit * ratio
    violation = budget.violation(measured, measured, measured)  # type: ignore[arg-type]
    assert violation == pytest.approx(ratio - 1, rel=1e-9, abs=1e-9)
    assert (violation <= 0) == (measured <= limit)


def test_describe() -> None:
    assert describe(parse_budget("300MFLOPs")) == "300MFLOPs"
    assert describe(parse_budget("[0.3GFLOPs,5Mparams]")) == "300MFLOPs and 5Mparams"
    assert describe(parse_budget("[25ms,5Mparams,300MMACs]")) == "25ms, 5Mparams and 300MFLOPs"
    assert describe([]) == "no budget"
    assert describe(iter(parse_budget("5Mparams"))) == "5Mparams"
    (timed,) = parse_budget("latency:mobilenet_v3_large", lambda _: 24.245770000000004)
    assert describe([timed]) == timed.text == "24.25ms"  # a timing, read to four digits
    assert str(timed) == "24.245770000000004ms"  # while the canonical text still reads back exactly


def test_needs_latency() -> None:
    assert needs_latency(parse_budget("[300MFLOPs,25ms]"))
    assert not needs_latency(parse_budget("[300MFLOPs,5Mparams]"))
    assert not needs_latency(parse_budget(None))
