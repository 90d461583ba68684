"""Input schemas for plan elements. Validation messages are message ids, translated on render."""

import re
from datetime import date
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.i18n import parse_day
from app.inputs import BIGINT_MAX, ID_MAX
from app.models.enums import (
    GLOBAL_ROLES,
    ActionStatus,
    Aggregation,
    AutonomyDomain,
    Direction,
    KPIKind,
    PeriodType,
    PlanStatus,
    Role,
    Rollup,
    UnitKind,
)
from app.numbers import COUNT_MAX, WHOLE_MAX, NotANumber, TooLarge, parse_number, parse_whole_number
from app.periods import EXAMPLES, YEAR_MAX_BE, YEAR_MIN_BE, parse_period

YEAR_MIN, YEAR_MAX = YEAR_MIN_BE - 543, YEAR_MAX_BE - 543  # dates, in the Common Era


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


def _non_negative(value: Any) -> float | None:
    number = _number(value)
    if number is not None and number < 0:
        raise fail("Must be at least %(ge)s.", ge=0)
    return number


def _integer(value: Any) -> int | None:
    try:
        return parse_whole_number(value)
    except TooLarge:
        raise fail("Must be at most %(le)s.", le=f"{WHOLE_MAX:,}") from None
    except NotANumber:
        raise fail("Enter a whole number.") from None


def _whole(value: Any) -> int | None:
    try:
        amount = parse_whole_number(value)
    except TooLarge:
        raise fail("Must be at most %(le)s.", le=f"{WHOLE_MAX:,}") from None
    except NotANumber:
        raise fail("Enter a whole number of baht, e.g. 450,000.") from None
    if amount is not None and amount < 0:
        raise fail("Must be at least %(ge)s.", ge=0)
    return amount


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
NonNegative = Annotated[float | None, BeforeValidator(_non_negative)]
Baht = Annotated[int | None, BeforeValidator(_whole)]
Id = Annotated[int, Field(ge=1, le=ID_MAX)]
OptionalId = Annotated[Id | None, BeforeValidator(_blank_to_none)]
Ids = Annotated[list[Id], BeforeValidator(_ids)]


def _day(value: Any) -> Any:
    """A typed day ('16/6/2566' in B.E., Thai digits too, or ISO) as a date; what is not one
    goes on to be refused as not a date."""
    if isinstance(value, str):
        return parse_day(value) or (None if not value.strip() else value)
    return value


Day = Annotated[date, BeforeValidator(_day)]
OptionalDate = Annotated[date | None, BeforeValidator(_day)]
OptionalPeriod = Annotated[str | None, BeforeValidator(lambda v: _strip(_blank_to_none(v)))]


class InputModel(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=5000)

    @model_validator(mode="after")
    def _fits_the_database(self) -> Self:
        """Every whole number within BIGINT and every date or time within the years 1900-2600
        (B.E. 2443-3143), whatever field declared them: beyond, a database or a time zone
        conversion fails, and no plan needs them."""
        errors = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            for item in value if isinstance(value, list) else (value,):
                problem = _out_of_range(item)
                if problem is not None:
                    errors[name] = problem
        if errors:
            raise MultiFieldError(errors)
        return self


def _out_of_range(value: Any) -> PydanticCustomError | None:
    if type(value) is int and not -BIGINT_MAX <= value <= BIGINT_MAX:
        return fail("Must be at most %(le)s.", le=f"{BIGINT_MAX:,}")
    if isinstance(value, date) and not YEAR_MIN <= value.year <= YEAR_MAX:
        return fail(
            "Enter a date between the years %(start)s and %(end)s.",
            start=YEAR_MIN_BE,
            end=YEAR_MAX_BE,
        )
    return None


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


class DOEStatementIn(InputModel):
    text: Text = Field(min_length=1, max_length=2000)
    item_ids: Ids = []


class KRAIn(InputModel):
    code: Text = Field(min_length=1, max_length=20)
    title: Text = Field(min_length=1, max_length=500)
    description: Text = Field(default="", max_length=4000)
    theme_id: OptionalId = None
    doe_item_ids: Ids = []


KPI_RANGES = {
    KPIKind.percentage: (0, 100),
    KPIKind.rubric: (1, 5),
    KPIKind.milestone: (0, 1),
}


class KPIIn(InputModel):
    """Fields are checked in order, so the period checks can see the kind and period type."""

    code: Text = Field(min_length=1, max_length=20)
    name: Text = Field(min_length=1, max_length=500)
    definition: Text = Field(default="", max_length=4000)
    unit: Text = Field(default="", max_length=60)
    kind: KPIKind
    direction: Direction = Direction.higher
    period_type: PeriodType
    baseline_period: OptionalPeriod = None
    target_period: OptionalPeriod = None
    baseline_value: Number = None
    target_value: Number = None
    aggregation: Aggregation = Aggregation.standalone
    rollup: Rollup = Rollup.mean
    tolerance: NonNegative = None
    data_source: Text = Field(default="", max_length=2000)
    lead_agency_id: OptionalId = None
    co_owner_ids: Ids = []
    kra_ids: Ids = []
    indicator_id: OptionalId = None  # the national common indicator it measures
    data_item_ids: Ids = []  # entries of the area's data catalogue it draws its values from

    @field_validator("baseline_period", "target_period")
    @classmethod
    def _period_matches_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        period_type = info.data.get("period_type")
        if value is None or period_type is None:
            return value
        parsed = parse_period(value)
        if parsed is None or parsed.period_type != period_type:
            raise fail(
                "Use a period code of this KPI's period type, e.g. %(example)s.",
                example=EXAMPLES[period_type],
            )
        return parsed.code

    @field_validator("baseline_value", "target_value")
    @classmethod
    def _value_in_range(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return value
        period_field = info.field_name.replace("_value", "_period")
        if period_field in info.data and info.data[period_field] is None:
            raise fail("Give the period this value belongs to.")
        bounds = KPI_RANGES.get(info.data.get("kind"))
        if bounds and not bounds[0] <= value <= bounds[1]:
            raise fail(
                "For this kind of KPI the value must be between %(low)s and %(high)s.",
                low=bounds[0],
                high=bounds[1],
            )
        return value


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


def _link(value: Any) -> Any:
    value = _strip(value) or ""
    if value and not re.match(r"^https?://\S+$", value):
        raise fail("Enter a web address starting with http:// or https://.")
    return value


Link = Annotated[str, BeforeValidator(_link), Field(max_length=1000)]


class ActionUpdateIn(InputModel):
    """A dated check-in on an action."""

    on_date: Day
    status: ActionStatus
    percent_complete: Annotated[int | None, BeforeValidator(_integer)] = Field(
        default=None, ge=0, le=100
    )
    what_changed: Text = Field(min_length=1, max_length=4000)
    next_steps: Text = Field(default="", max_length=4000)
    confidence: Annotated[int | None, BeforeValidator(_integer)] = Field(default=None, ge=0, le=10)
    spent_thb: Baht = None
    evidence_url: Link = ""


class MeasurementIn(InputModel):
    """What goes with a period's value: how many were measured, a note, an evidence link."""

    n_measured: Annotated[int | None, BeforeValidator(_integer)] = Field(
        default=None, ge=0, le=COUNT_MAX
    )
    note: Text = Field(default="", max_length=2000)
    evidence_url: Link = ""


class OrgUnitIn(InputModel):
    """An educational service area office or a pilot school that reports its own values."""

    kind: UnitKind
    name: Text = Field(min_length=1, max_length=300)


class AgencyIn(InputModel):
    name_th: Text = Field(min_length=1, max_length=300)
    name_en: Text = Field(default="", max_length=300)
    type_id: int


INDICATOR_CODE = re.compile(r"^[a-z0-9-]{2,40}$")


def _indicator_code(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = value.strip().lower()
    if value and not INDICATOR_CODE.match(value):
        raise fail("Use 2 to 40 lower-case letters, digits and hyphens, e.g. p1-reading-good.")
    return value


def _checkbox(value: Any) -> Any:
    """An unticked box is not sent at all; a ticked one sends "on" (or "1")."""
    return False if value in (None, "") else value


class CommonIndicatorIn(InputModel):
    """A national indicator of the common-indicator library (its code never changes once made)."""

    code: Annotated[str, BeforeValidator(_indicator_code), Field(min_length=1, max_length=40)]
    name_th: Text = Field(min_length=1, max_length=300)
    name_en: Text = Field(default="", max_length=300)
    definition: Text = Field(default="", max_length=4000)
    unit: Text = Field(default="", max_length=60)
    kind: KPIKind
    direction: Direction = Direction.higher
    period_type: PeriodType
    data_source: Text = Field(default="", max_length=2000)
    needs_count: Annotated[bool, BeforeValidator(_checkbox)] = False
    theme_id: OptionalId = None
    aspect_id: OptionalId = None


class MultiFieldError(ValueError):
    """Raised by model validators to put messages beside specific fields."""

    def __init__(self, errors: dict[str, PydanticCustomError]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# ---- accounts -------------------------------------------------------------------------------

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN = 10


def _email(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = value.strip().lower()
    if value and not EMAIL.match(value):
        raise fail("Enter an email address, e.g. name@example.go.th.")
    return value


Email = Annotated[str, BeforeValidator(_email), Field(min_length=1, max_length=254)]


def _password(value: Any) -> Any:
    if isinstance(value, str) and 0 < len(value) < PASSWORD_MIN:
        raise fail("Use at least %(min)s characters.", min=PASSWORD_MIN)
    return value


Password = Annotated[str, BeforeValidator(_password), Field(min_length=1, max_length=200)]


class UserIn(InputModel):
    email: Email
    display_name: Text = Field(min_length=1, max_length=120)


class PasswordIn(InputModel):
    password: Password


class GrantIn(InputModel):
    role: Role
    area_id: OptionalId = None
    agency_ids: Ids = []  # an editor limited to these agencies; none: the whole area

    @model_validator(mode="after")
    def _area_for_area_roles(self) -> "GrantIn":
        if self.role in GLOBAL_ROLES:
            self.area_id = None
        elif self.area_id is None:
            raise MultiFieldError({"area_id": fail("Choose the area this role is for.")})
        if self.agency_ids and self.role != Role.editor:
            raise MultiFieldError(
                {"agency_ids": fail("Only an editor's role can be limited to agencies.")}
            )
        return self


class GrantScopeIn(InputModel):
    agency_ids: Ids = []


class TokenIn(InputModel):
    name: Text = Field(min_length=1, max_length=80)


# ---- reference data (administrators) --------------------------------------------------------

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
REFERENCE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
ISO_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,6}$")
AREA_STATUSES = ("prospective", "designated", "active", "withdrawn")
PROGRAMMES = ("innovation_area", "area_based_education")


def _slug(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().lower()
        if value and not SLUG.match(value):
            raise fail("Use lower-case letters, digits and hyphens, e.g. khon-kaen.")
    return value


def _reference_code(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value and not REFERENCE_CODE.match(value):
            raise fail("Use letters, digits, hyphens and underscores (at most 40).")
    return value


def _iso_code(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().upper()
        if value and not ISO_CODE.match(value):
            raise fail("Use the ISO 3166-2 code, e.g. TH-40.")
    return value


def _count(value: Any) -> Any:
    number = _integer(value)
    if number is not None and number < 0:
        raise fail("Must be at least %(ge)s.", ge=0)
    return number


class AreaIn(InputModel):
    slug: Annotated[str, BeforeValidator(_slug)] = Field(min_length=1, max_length=60)
    iso_code: Annotated[str, BeforeValidator(_iso_code)] = Field(min_length=1, max_length=10)
    name_th: Text = Field(min_length=1, max_length=120)
    name_en: Text = Field(min_length=1, max_length=120)
    cohort: Text = Field(min_length=1, max_length=40)
    programme: Text = Field(min_length=1, max_length=40)
    pilot_schools: Annotated[int | None, BeforeValidator(_count)] = None
    designated_on: OptionalDate = None

    @field_validator("programme")
    @classmethod
    def _known_programme(cls, value: str) -> str:
        if value not in PROGRAMMES:
            raise fail("Choose one of the options.")
        return value


class AreaStatusIn(InputModel):
    status: Text = Field(min_length=1, max_length=20)
    changed_on: Day
    instrument: Text = Field(default="", max_length=300)

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        if value not in AREA_STATUSES:
            raise fail("Choose one of the options.")
        return value


class NewAreaIn(AreaIn, AreaStatusIn):
    """A new area with its first status entry."""


class AdminAgencyIn(InputModel):
    area_id: OptionalId = None
    code: Annotated[str, BeforeValidator(_reference_code)] = Field(min_length=1, max_length=60)
    name_th: Text = Field(min_length=1, max_length=300)
    name_en: Text = Field(default="", max_length=300)
    type_id: Id
    position: Annotated[int | None, BeforeValidator(_count)] = None


class ThemeIn(InputModel):
    code: Annotated[str, BeforeValidator(_reference_code)] = Field(min_length=1, max_length=40)
    name_th: Text = Field(min_length=1, max_length=200)
    name_en: Text = Field(min_length=1, max_length=200)


class DOENameIn(InputModel):
    """An aspect or an item of a draft DOE framework version."""

    code: Annotated[str, BeforeValidator(_reference_code)] = Field(min_length=1, max_length=10)
    name_th: Text = Field(min_length=1, max_length=400)
    name_en: Text = Field(min_length=1, max_length=400)
