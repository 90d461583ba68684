"""How a KPI is doing: aggregation over periods, targets, status, trend and freshness. Pure.

The rules, as the progress page explains them:
- A period's *figure* follows the KPI's aggregation rule: `standalone` uses that period's value;
  `running_sum` adds every value up to and including the period (shown only for periods that
  have a value); `latest` carries the most recent value forward.
- A period's *target* is the one set for that period; otherwise, with a baseline and an end
  target, the straight line between them (interpolated); otherwise the end target in its period.
- *Status*: on track when the figure meets the target (at or above it when higher is better, at
  or below when lower is better). Short of the target it is at risk when within the KPI's
  tolerance, or, with no tolerance set, when it is still better than the baseline; otherwise off
  track. No figure, or no target to compare with: no data.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache
from typing import NamedTuple

from app.models.enums import Aggregation, Direction, KPIStatus, Rollup
from app.periods import parse_period, period_span

OVERDUE_AFTER = timedelta(days=60)  # a period's data is overdue 60 days after the period ends


@dataclass(frozen=True)
class Rule:
    direction: Direction = Direction.higher
    aggregation: Aggregation = Aggregation.standalone
    baseline: float | None = None
    baseline_period: str | None = None
    end_target: float | None = None
    end_period: str | None = None
    tolerance: float | None = None

    @cached_property
    def sign(self) -> int:
        return 1 if self.direction == Direction.higher else -1

    @cached_property
    def line(self) -> tuple[int, int] | None:
        """The indexes of the baseline's and the end target's periods, when a straight line of
        targets joins them (worked out once per KPI, not once per period)."""
        if self.baseline_period is None or self.end_period is None:
            return None
        start, end = period_index(self.baseline_period), period_index(self.end_period)
        if start is None or end is None or end <= start:
            return None
        return start, end


class Judgement(NamedTuple):  # a tuple: the review judges thousands of periods per page
    status: KPIStatus
    reason: str  # met, within_tolerance, better_than_baseline, short, no_value, no_target
    figure: float | None
    target: float | None
    interpolated: bool = False


# ---- values ---------------------------------------------------------------------------------


def roll_up(values: Iterable[tuple[float, int | None]], rule: Rollup) -> float | None:
    """The area's value from its units' (value, number measured) pairs."""
    pairs = list(values)
    if not pairs:
        return None
    if rule == Rollup.sum:
        return sum(v for v, _ in pairs)
    if rule == Rollup.weighted_mean:
        weighted = [(v, n) for v, n in pairs if n]
        total = sum(n for _, n in weighted)
        if total:
            return sum(v * n for v, n in weighted) / total
    return sum(v for v, _ in pairs) / len(pairs)


def figures(
    periods: Sequence[str], values: dict[str, float], aggregation: Aggregation
) -> dict[str, float | None]:
    """The figure of each period (in time order) under the aggregation rule."""
    result: dict[str, float | None] = {}
    running = 0.0
    latest: float | None = None
    for period in periods:
        value = values.get(period)
        if value is not None:
            running += value
            latest = value
        if aggregation == Aggregation.running_sum:
            result[period] = running if value is not None else None
        elif aggregation == Aggregation.latest:
            result[period] = latest
        else:
            result[period] = value
    return result


# ---- targets --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def period_index(code: str) -> int | None:
    """A running number within one period type: consecutive periods differ by one."""
    p = parse_period(code)
    if p is None:
        return None
    if p.part is None:
        return p.year_be
    step = 2 if p.part[0] == "S" else 4
    return p.year_be * step + int(p.part[1]) - 1


def target_for(period: str, rule: Rule, targets: dict[str, float]) -> tuple[float | None, bool]:
    """(target, interpolated?) for a period."""
    if period in targets:
        return targets[period], False
    if rule.end_target is None or rule.end_period is None:
        return None, False
    if period == rule.end_period:
        return rule.end_target, False
    line, here = rule.line, period_index(period)
    if rule.baseline is None or line is None or here is None or not line[0] <= here <= line[1]:
        return None, False
    start, end = line
    share = (here - start) / (end - start)
    return rule.baseline + (rule.end_target - rule.baseline) * share, True


# ---- status ---------------------------------------------------------------------------------


def judge(
    figure: float | None, target: float | None, rule: Rule, interpolated: bool = False
) -> Judgement:
    if figure is None:
        return Judgement(KPIStatus.no_data, "no_value", figure, target, interpolated)
    if target is None:
        return Judgement(KPIStatus.no_data, "no_target", figure, target, interpolated)
    shortfall = rule.sign * (target - figure)  # > 0: short of the target
    if shortfall <= 0:
        status, reason = KPIStatus.on_track, "met"
    elif rule.tolerance is not None:
        if shortfall <= rule.tolerance:
            status, reason = KPIStatus.at_risk, "within_tolerance"
        else:
            status, reason = KPIStatus.off_track, "short"
    elif rule.baseline is not None and rule.sign * (figure - rule.baseline) > 0:
        status, reason = KPIStatus.at_risk, "better_than_baseline"
    else:
        status, reason = KPIStatus.off_track, "short"
    return Judgement(status, reason, figure, target, interpolated)


def judge_periods(
    periods: Sequence[str], values: dict[str, float], targets: dict[str, float], rule: Rule
) -> dict[str, Judgement]:
    """Status of every period, in time order."""
    figs = figures(periods, values, rule.aggregation)
    result = {}
    for period in periods:
        target, interpolated = target_for(period, rule, targets)
        result[period] = judge(figs[period], target, rule, interpolated)
    return result


# ---- trend and freshness --------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    direction: str  # improving, worsening, steady, unknown
    periods: int  # for how many periods in a row (0 when unknown)


def trend(figures_in_order: Sequence[float | None], rule: Rule) -> Trend:
    """Improving or worsening over the latest figures, and for how many periods in a row."""
    known = [f for f in figures_in_order if f is not None]
    if len(known) < 2:
        return Trend("unknown", 0)
    moves = [_move(b - a, rule) for a, b in zip(known, known[1:], strict=False)]
    last = moves[-1]
    count = 0
    for move in reversed(moves):
        if move != last:
            break
        count += 1
    return Trend(last, count)


def _move(delta: float, rule: Rule) -> str:
    signed = rule.sign * delta
    return "improving" if signed > 0 else "worsening" if signed < 0 else "steady"


def overdue(
    periods: Sequence[str], values: dict[str, float], today: date, after: str | None = None
) -> list[str]:
    """Periods that ended more than OVERDUE_AFTER ago and still have no value. Periods up to
    `after` (the baseline period) are not expected to have values."""
    start = period_index(after) if after else None
    return [
        p
        for p in periods
        if p not in values
        and period_span(p).ends_on + OVERDUE_AFTER < today
        and (start is None or (period_index(p) or 0) > start)
    ]


def distribution(statuses: Iterable[KPIStatus]) -> dict[KPIStatus, int]:
    """How many KPIs are in each status (every status present, zeros included)."""
    counts = dict.fromkeys(KPIStatus, 0)
    for status in statuses:
        counts[status] += 1
    return counts
