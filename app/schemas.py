"""Input schemas for plan elements. Validation messages are message ids, translated on render."""

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.models.enums import (
    ActionStatus,
    AutonomyDomain,
    Direction,
    KPIKind,
    PeriodType,
    PlanStatus,
)
from app.numbers import NotANumber, parse_integer, parse_number
from app.periods import EXAMPLES, parse_period


def fail(msgid: str, **params: object) -> PydanticCustomError:
    return PydanticCustomError("phonlap", msgid, {"msgid": msgid, **params})


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and value.strip() == "":
        return None
    return value


def _number(value: Any) -> float | None:
    try:
        return parse_number(value)
    except NotANumber:
        raise fail("Enter a number, e.g. 72.5 (Thai digits and a trailing % are fine).") from None


def _whole(value: Any) -> int | None:
    try:
        return parse_integer(value)
    except NotANumber:
        raise fail("Enter a whole number of baht, e.g. 450,000.") from None


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _ids(value: Any) -> list[int]:
    if value in (None, ""):
        return []
    if isinstance(value, str | int):
        value = [value]
    try:
        return sorted({int(v) for v in value if str(v).strip() != ""})
    except (TypeError, ValueError):
        raise fail("Pick from the list.") from None


Text = Annotated[str, BeforeValidator(_strip)]
Number = Annotated[float | None, BeforeValidator(_number)]
Baht = Annotated[int | None, BeforeValidator(_whole), Field(ge=0)]
OptionalId = Annotated[int | None, BeforeValidator(_blank_to_none)]
Ids = Annotated[list[int], BeforeValidator(_ids)]
OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]
OptionalPeriod = Annotated[str | None, BeforeValidator(lambda v: _strip(_blank_to_none(v)))]


class InputModel(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=5000)


class PlanIn(InputModel):
    title: Text = Field(min_length=1, max_length=300)
    span_start_be: int = Field(ge=2500, le=2700)
    span_end_be: int = Field(ge=2500, le=2700)
    status: PlanStatus = PlanStatus.draft
    vision: Text = Field(default="", max_length=5000)

    @model_validator(mode="after")
    def _span(self) -> "PlanIn":
        if self.span_end_be < self.span_start_be:
            raise MultiFieldError({"span_end_be": fail("The last year is before the first year.")})
        return self


class VisionIn(InputModel):
    vision: Text = Field(default="", max_length=5000)


class DOEStatementIn(InputModel):
    text: Text = Field(min_length=1, max_length=2000)
    item_ids: Ids = []


class ProblemIn(InputModel):
    problem: Text = Field(min_length=1, max_length=2000)
    causes: Text = Field(default="", max_length=4000)
    evidence: Text = Field(default="", max_length=4000)
    affected_groups: Text = Field(default="", max_length=2000)


class KRAIn(InputModel):
    code: Text = Field(min_length=1, max_length=20)
    title: Text = Field(min_length=1, max_length=500)
    description: Text = Field(default="", max_length=4000)
    theme_id: OptionalId = None
    doe_item_ids: Ids = []


_RANGES = {
    KPIKind.percentage: (0, 100),
    KPIKind.rubric: (1, 5),
    KPIKind.milestone: (0, 1),
}


class KPIIn(InputModel):
    code: Text = Field(min_length=1, max_length=20)
    name: Text = Field(min_length=1, max_length=500)
    definition: Text = Field(default="", max_length=4000)
    unit: Text = Field(default="", max_length=60)
    kind: KPIKind
    direction: Direction = Direction.higher
    period_type: PeriodType
    baseline_value: Number = None
    baseline_period: OptionalPeriod = None
    target_value: Number = None
    target_period: OptionalPeriod = None
    data_source: Text = Field(default="", max_length=2000)
    lead_agency_id: OptionalId = None
    co_owner_ids: Ids = []
    kra_ids: Ids = []

    @model_validator(mode="after")
    def _values_and_periods(self) -> "KPIIn":
        errors = {}
        for which in ("baseline", "target"):
            error = self._check_pair(which)
            if error:
                errors[error[0]] = error[1]
        if errors:
            raise MultiFieldError(errors)
        return self

    def _check_pair(self, which: str) -> tuple[str, PydanticCustomError] | None:
        value = getattr(self, f"{which}_value")
        period = getattr(self, f"{which}_period")
        if period is not None:
            parsed = parse_period(period)
            example = EXAMPLES[self.period_type]
            if parsed is None or parsed.period_type != self.period_type:
                return f"{which}_period", fail(
                    "Use a period code of this KPI's period type, e.g. %(example)s.",
                    example=example,
                )
            setattr(self, f"{which}_period", parsed.code)
        if value is not None and period is None:
            return f"{which}_period", fail("Give the period this value belongs to.")
        if value is not None and self.kind in _RANGES:
            low, high = _RANGES[self.kind]
            if not low <= value <= high:
                return f"{which}_value", fail(
                    "For this kind of KPI the value must be between %(low)s and %(high)s.",
                    low=low,
                    high=high,
                )
        return None


class ActionIn(InputModel):
    code: Text = Field(min_length=1, max_length=20)
    title: Text = Field(min_length=1, max_length=500)
    description: Text = Field(default="", max_length=4000)
    lead_agency_id: OptionalId = None
    partner_ids: Ids = []
    budget_thb: Baht = None
    start_on: OptionalDate = None
    end_on: OptionalDate = None
    status: ActionStatus = ActionStatus.not_started
    autonomy_domain: Annotated[AutonomyDomain | None, BeforeValidator(_blank_to_none)] = None
    kpi_ids: Ids = []
    kra_ids: Ids = []

    @model_validator(mode="after")
    def _dates(self) -> "ActionIn":
        if self.start_on and self.end_on and self.end_on < self.start_on:
            raise MultiFieldError({"end_on": fail("The end date is before the start date.")})
        return self


class AgencyIn(InputModel):
    name_th: Text = Field(min_length=1, max_length=300)
    name_en: Text = Field(default="", max_length=300)
    type_id: int


class MultiFieldError(ValueError):
    """Raised by model validators to put messages beside specific fields."""

    def __init__(self, errors: dict[str, PydanticCustomError]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
