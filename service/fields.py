"""The value types every endpoint takes, bounded to what the business and the database allow.

Each bound turns what would otherwise reach the database as an error (an id past a 32-bit
column, a date before year 1 or past 9999 once moved to UTC, a number taken for a date) into a
422 that names the field. The types carry their bounds into the OpenAPI document, so generated
clients and the docs page know them too.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Annotated, Any

import annotated_types as at
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StrictBool, StrictInt, StringConstraints

# ids are PostgreSQL `integer` columns; a bigger one is no id we ever issued
MAX_ID = 2**31 - 1

# a path or query id: its text is parsed, then bounded
Id = Annotated[int, at.Ge(1), at.Le(MAX_ID)]
# an id inside a JSON body: a JSON number, not a string or a float that happens to be whole
BodyId = Annotated[StrictInt, at.Ge(1), at.Le(MAX_ID)]
# a case named in a path: its id, or its tracking number as printed on every paper (LH-2026-000123)
_TRACKING = re.compile(r"^[A-Z]{1,8}-\d{4}-\d{6,9}$")
TrackingNo = Annotated[str, StringConstraints(pattern=_TRACKING.pattern, max_length=32)]


def _case_ref(value: Any) -> Any:
    # one error naming the field, not one per member of the union
    if isinstance(value, str) and value.isdigit():
        if int(value) > MAX_ID:
            raise ValueError(f"Input should be less than or equal to {MAX_ID}")
        return value
    if isinstance(value, str) and not _TRACKING.match(value):
        raise ValueError("give the case's id (a number) or its tracking number, e.g. LH-2026-000123")
    return value


CaseRef = Annotated[Id | TrackingNo, BeforeValidator(_case_ref)]
# a JSON true/false, not 0/1 or "yes"
Flag = StrictBool

# the years a date-time may name anywhere in the API: every date the service stores or
# compares lies within them (the working-day calendar knows nothing outside)
FIRST_YEAR, LAST_YEAR = 2000, 2099
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_only(value: Any) -> Any:
    # pydantic's lax mode reads a number as seconds since 1970 ("to=0.5" was a date)
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO.match(value)):
        return value
    raise ValueError("give an ISO 8601 date-time with its time zone, e.g. 2026-12-04T09:00:00+08:00")


def _in_calendar(value: datetime) -> datetime:
    try:
        year = value.astimezone(timezone.utc).year
    except OverflowError:
        year = value.year
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"must lie in the years {FIRST_YEAR}-{LAST_YEAR}")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_in_calendar)]

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day_only(value: Any) -> Any:
    # lax mode reads "0" as 1970-01-01
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DAY.match(value)):
        return value
    raise ValueError("give a date as YYYY-MM-DD, e.g. 2026-12-01")


def _day_in_calendar(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must lie in the years {FIRST_YEAR}-{LAST_YEAR}")
    return value


Day = Annotated[date, BeforeValidator(_day_only), AfterValidator(_day_in_calendar)]


def text(max_length: int):
    """Text a person writes: surrounding blanks stripped, and something left after stripping
    ("   " is no title)."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)]
