"""Samples as stored rows, and how a submitted value becomes one.

A row is a plain tuple in ``samples`` column order, the cheapest thing to queue and the
form asyncpg's ``copy_records_to_table`` takes. Its time is an integer: microseconds since
the Unix epoch (UTC). Encoding Python datetimes costs asyncpg more than everything else in
a row, so the writer's connection encodes ``timestamptz`` from these integers instead
(:func:`install_time_codec`), which doubles what one ``COPY`` can carry.

Numbers and booleans (as 1.0/0.0, so they graph and average as a duty cycle) go to
``value``; text goes to ``text_value``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
import math
from typing import Final

import asyncpg

from custom_components.makerhub.core.schema import FALSE_TEXTS, TRUE_TEXTS, VarType

type Row = tuple[int, str, str, float | None, str | None]
"""``(time: µs since the Unix epoch, unit, variable, value, text_value)``."""

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND: Final = timedelta(microseconds=1)
_PG_EPOCH_US: Final = 946_684_800_000_000
"""PostgreSQL's epoch (2000-01-01 UTC) in Unix microseconds."""


def to_micros(time: datetime) -> int:
    """Return an aware (or, taken as UTC, naive) datetime as µs since the Unix epoch."""
    if time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    return (time - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    """Return µs since the Unix epoch as an aware UTC datetime."""
    return EPOCH + micros * MICROSECOND


async def install_time_codec(conn: asyncpg.Connection) -> None:
    """Make ``conn`` take and return ``timestamptz`` as µs since the Unix epoch."""
    await conn.set_type_codec(
        "timestamptz",
        schema="pg_catalog",
        encoder=lambda micros: (micros - _PG_EPOCH_US,),
        decoder=lambda value: value[0] + _PG_EPOCH_US,
        format="tuple",
    )


COLUMNS: Final = ("time", "unit", "variable", "value", "text_value")
MAX_TEXT_LENGTH: Final = 4096
"""Longer text is refused: it bounds what a buffered sample can cost in memory."""
NUMERIC_TYPES: Final = frozenset({VarType.FLOAT, VarType.INT})
TEXT_TYPES: Final = frozenset({VarType.STR, VarType.ENUM})


class WrongTypePolicy(StrEnum):
    """What happens to a value that does not fit its variable's declared type."""

    STORE_AS_TEXT = "store_as_text"
    """Keep it, in ``text_value`` (counted as ``stored_as_text``)."""
    REJECT = "reject"
    """Refuse it (counted as ``rejected``)."""


class SampleIssue(StrEnum):
    """Why a value was stored differently than declared, or refused."""

    STORED_AS_TEXT = "stored_as_text"
    WRONG_TYPE = "wrong_type"
    NO_VALUE = "no_value"
    TOO_LONG = "too_long"
    INVALID_TEXT = "invalid_text"


REFUSED: Final = frozenset(
    {SampleIssue.WRONG_TYPE, SampleIssue.NO_VALUE, SampleIssue.TOO_LONG, SampleIssue.INVALID_TEXT}
)

type Converted = tuple[float | None, str | None, SampleIssue | None]
"""``(value, text_value, issue)``; the sample is refused when ``issue`` is in REFUSED."""


def _number(value: object) -> float | None:
    """Return ``value`` as a finite float, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _boolean(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in TRUE_TEXTS:
            return 1.0
        if lowered in FALSE_TEXTS:
            return 0.0
        return None
    if isinstance(value, int | float) and value in (0, 1):
        return float(value)
    return None


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def _text(text: str, issue: SampleIssue | None) -> Converted:
    if len(text) > MAX_TEXT_LENGTH:
        return None, None, SampleIssue.TOO_LONG
    if "\x00" in text:
        return None, None, SampleIssue.INVALID_TEXT
    return None, text, issue


def convert(value: object, var_type: VarType | None, policy: WrongTypePolicy) -> Converted:
    """Turn a submitted value into ``(value, text_value, issue)`` for ``var_type``.

    ``var_type`` None (an unregistered variable) stores numbers and booleans as numbers
    and anything else as text. Numeric text such as ``"21.5"`` counts as a number for a
    numeric variable, so the raw MQTT payload may be submitted too.
    """
    if value is None:
        return None, None, SampleIssue.NO_VALUE
    number: float | None
    if var_type is None:
        number = _boolean(value) if isinstance(value, bool) else _number(value)
        if number is not None and not isinstance(value, str):
            return number, None, None
        return _text(_as_text(value), None)
    if var_type in NUMERIC_TYPES:
        number = _number(value)
    elif var_type is VarType.BOOL:
        number = _boolean(value)
    else:
        return _text(_as_text(value), None)
    if number is not None:
        return number, None, None
    if policy is WrongTypePolicy.REJECT:
        return None, None, SampleIssue.WRONG_TYPE
    return _text(_as_text(value), SampleIssue.STORED_AS_TEXT)
