"""Status, aggregation and targets: properties over both directions and all three rules."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models.enums import Aggregation, Direction, KPIStatus, Rollup
from app.status import (
    Rule,
    distribution,
    figures,
    judge,
    judge_periods,
    overdue,
    roll_up,
    target_for,
    trend,
)

settings.register_profile("phonlap", max_examples=150, deadline=None)
settings.load_profile("phonlap")

numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
maybe = st.none() | numbers
tolerances = st.none() | st.floats(min_value=0, max_value=1e5, allow_nan=False)
directions = st.sampled_from(list(Direction))
aggregations = st.sampled_from(list(Aggregation))
RANK = {KPIStatus.off_track: 0, KPIStatus.at_risk: 1, KPIStatus.on_track: 2}
PERIODS = [f"AY{y}" for y in range(2563, 2571)]


def _flip(direction: Direction) -> Direction:
    return Direction.lower if direction == Direction.higher else Direction.higher


@given(numbers, numbers, maybe, tolerances, directions)
def test_lower_is_better_mirrors_higher_is_better(
    figure: float, target: float, baseline: float | None, tolerance: float | None, d: Direction
) -> None:
    rule = Rule(direction=d, baseline=baseline, tolerance=tolerance)
    mirrored = Rule(
        direction=_flip(d), baseline=None if baseline is None else -baseline, tolerance=tolerance
    )
    assert judge(figure, target, rule).status == judge(-figure, -target, mirrored).status


@given(numbers, st.floats(min_value=0, max_value=1e5), maybe, tolerances, directions)
def test_meeting_or_beating_the_target_is_on_track(
    target: float, margin: float, baseline: float | None, tolerance: float | None, d: Direction
) -> None:
    rule = Rule(direction=d, baseline=baseline, tolerance=tolerance)
    figure = target + margin if d == Direction.higher else target - margin
    assert judge(figure, target, rule).status == KPIStatus.on_track


@given(numbers, numbers, st.floats(min_value=0, max_value=1e5), numbers, tolerances, directions)
def test_a_better_figure_never_has_a_worse_status(
    figure: float, step: float, gain: float, target: float, tolerance: float | None, d: Direction
) -> None:
    rule = Rule(direction=d, baseline=step, tolerance=tolerance)
    better = figure + gain if d == Direction.higher else figure - gain
    assert RANK[judge(better, target, rule).status] >= RANK[judge(figure, target, rule).status]


@given(numbers, st.floats(min_value=0.001, max_value=1e4), st.floats(0, 1), directions)
def test_tolerance_decides_between_at_risk_and_off_track(
    target: float, tolerance: float, share: float, d: Direction
) -> None:
    rule = Rule(direction=d, tolerance=tolerance)
    short = max(tolerance * share, 1e-6) if share else 1e-6
    inside = target - short if d == Direction.higher else target + short
    outside = target - 2 * tolerance - 1 if d == Direction.higher else target + 2 * tolerance + 1
    if abs(inside - target) <= tolerance:
        assert judge(inside, target, rule).status == KPIStatus.at_risk
    assert judge(outside, target, rule).status == KPIStatus.off_track


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "figure", "status"),
    [
        (Direction.higher, 0, 10, 5, KPIStatus.at_risk),  # zero baseline, halfway
        (Direction.higher, 0, 10, 0, KPIStatus.off_track),  # no better than a zero baseline
        (Direction.higher, -5, 0, -2, KPIStatus.at_risk),  # negative baseline (a net change)
        (Direction.higher, -5, 0, -7, KPIStatus.off_track),
        (Direction.lower, 12.5, 5, 8, KPIStatus.at_risk),  # drop-out rate coming down
        (Direction.lower, 12.5, 5, 13, KPIStatus.off_track),
        (Direction.lower, 0, 0, 0, KPIStatus.on_track),  # zero out-of-school children kept
        (Direction.lower, 0, 0, 1, KPIStatus.off_track),
    ],
)
def test_zero_and_negative_baselines(
    direction: Direction, baseline: float, target: float, figure: float, status: KPIStatus
) -> None:
    assert judge(figure, target, Rule(direction=direction, baseline=baseline)).status == status


def test_no_value_or_no_target_is_no_data() -> None:
    assert judge(None, 10, Rule()).reason == "no_value"
    assert judge(5, None, Rule()).status == KPIStatus.no_data
    assert judge(5, None, Rule()).reason == "no_target"


period_values = st.dictionaries(st.sampled_from(PERIODS), numbers, max_size=len(PERIODS))


@given(period_values, aggregations)
def test_figures_keep_every_period_in_order(values: dict[str, float], rule: Aggregation) -> None:
    assert list(figures(PERIODS, values, rule)) == PERIODS


@given(period_values)
def test_standalone_figures_are_the_values_and_missing_periods_stay_empty(
    values: dict[str, float],
) -> None:
    assert figures(PERIODS, values, Aggregation.standalone) == {p: values.get(p) for p in PERIODS}


@given(period_values)
def test_running_sum_adds_every_earlier_value_despite_missing_periods(
    values: dict[str, float],
) -> None:
    result = figures(PERIODS, values, Aggregation.running_sum)
    for i, p in enumerate(PERIODS):
        if p in values:
            expected = sum(values[q] for q in PERIODS[: i + 1] if q in values)
            assert result[p] == pytest.approx(expected, abs=1e-6)
        else:
            assert result[p] is None


@given(period_values)
def test_latest_carries_the_last_value_forward(values: dict[str, float]) -> None:
    result = figures(PERIODS, values, Aggregation.latest)
    for i, p in enumerate(PERIODS):
        earlier = [values[q] for q in PERIODS[: i + 1] if q in values]
        assert result[p] == (earlier[-1] if earlier else None)


def test_running_sum_is_what_is_judged_against_a_cumulative_target() -> None:
    # schools joining: 3, (no report), 4 -> 7 so far against a cumulative target of 7
    rule = Rule(aggregation=Aggregation.running_sum, baseline=0)
    result = judge_periods(
        ["FY2566", "FY2567", "FY2568"], {"FY2566": 3, "FY2568": 4}, {"FY2568": 7}, rule
    )
    assert result["FY2568"].figure == 7
    assert result["FY2568"].status == KPIStatus.on_track
    assert result["FY2567"].status == KPIStatus.no_data


@given(numbers, numbers, st.integers(2565, 2569), st.integers(1, 6))
def test_interpolated_targets_run_from_baseline_to_end_target(
    baseline: float, end: float, start_year: int, length: int
) -> None:
    rule = Rule(
        baseline=baseline,
        baseline_period=f"AY{start_year}",
        end_target=end,
        end_period=f"AY{start_year + length}",
    )
    assert target_for(f"AY{start_year}", rule, {}) == (pytest.approx(baseline), True)
    assert target_for(f"AY{start_year + length}", rule, {}) == (end, False)
    low, high = sorted((baseline, end))
    for year in range(start_year, start_year + length + 1):
        value, _ = target_for(f"AY{year}", rule, {})
        assert low - 1e-6 <= value <= high + 1e-6
    assert target_for(f"AY{start_year + length + 1}", rule, {}) == (None, False)
    assert target_for(f"AY{start_year}", rule, {f"AY{start_year}": 1.5}) == (1.5, False)


def test_interpolation_counts_semesters() -> None:
    rule = Rule(baseline=60, baseline_period="AY2565-S2", end_target=80, end_period="AY2567-S2")
    assert target_for("AY2566-S2", rule, {}) == (pytest.approx(70), True)


@given(st.lists(st.tuples(numbers, st.none() | st.integers(1, 5000)), min_size=1, max_size=30))
def test_roll_ups_stay_within_the_units_values(pairs: list[tuple[float, int | None]]) -> None:
    values = [v for v, _ in pairs]
    assert roll_up(pairs, Rollup.sum) == pytest.approx(sum(values), abs=1e-3)
    for rule in (Rollup.mean, Rollup.weighted_mean):
        assert min(values) - 1e-6 <= roll_up(pairs, rule) <= max(values) + 1e-6


def test_weighted_mean_weighs_by_the_number_measured() -> None:
    # O-NET: a school that tested 300 pupils counts more than one that tested 20
    assert roll_up([(40.0, 300), (80.0, 20)], Rollup.weighted_mean) == pytest.approx(42.5)
    assert roll_up([(40.0, 300), (80.0, 20)], Rollup.mean) == 60.0
    assert roll_up([], Rollup.mean) is None


def test_trend_counts_the_periods_in_a_row() -> None:
    higher = Rule()
    assert trend([50, 55, 60, None, 62], higher) == trend([50, 55, 60, 62], higher)
    assert trend([50, 55, 60, 62], higher).direction == "improving"
    assert trend([50, 55, 60, 62], higher).periods == 3
    assert trend([50, 55, 53], higher).direction == "worsening"
    assert trend([9, 7, 6], Rule(direction=Direction.lower)).direction == "improving"
    assert trend([1], higher).direction == "unknown"


def test_a_period_is_overdue_sixty_days_after_it_ends() -> None:
    periods = ["AY2566", "AY2567", "AY2568"]  # AY2567 ends 15 May 2025
    assert overdue(periods, {"AY2566": 1.0}, date(2025, 7, 14)) == []
    assert overdue(periods, {"AY2566": 1.0}, date(2025, 7, 15)) == ["AY2567"]
    assert overdue(periods, {}, date(2025, 7, 15), after="AY2566") == ["AY2567"]  # baseline year


def test_distribution_counts_every_status() -> None:
    counts = distribution([KPIStatus.on_track, KPIStatus.on_track, KPIStatus.no_data])
    assert counts == {
        KPIStatus.on_track: 2,
        KPIStatus.at_risk: 0,
        KPIStatus.off_track: 0,
        KPIStatus.no_data: 1,
    }
