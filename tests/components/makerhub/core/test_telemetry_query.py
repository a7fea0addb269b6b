"""History queries: every aggregation compared with the same numbers computed in Python."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
import random
import statistics

import pytest

from custom_components.makerhub.core.telemetry import Aggregation, QueryError, TelemetryStore

from .telemetry_helpers import T0, at

ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)
BUCKET = timedelta(minutes=10)
START = T0 + timedelta(minutes=3)  # not on a bucket boundary
END = T0 + timedelta(minutes=57)


@pytest.fixture
async def history(telemetry_store: TelemetryStore) -> list[tuple[datetime, float | str]]:
    """One hour of 'temp' every 6 s (some text among them) plus another series; written."""
    rng = random.Random(8)
    samples: list[tuple[datetime, float | str]] = []
    for i in range(600):
        time = at(i * 6)
        value: float | str = "sensor fault" if i % 97 == 0 else round(rng.uniform(15, 30), 3)
        samples.append((time, value))
        telemetry_store.submit("u1", "temp", value, time)
        telemetry_store.submit("u1", "other", 1000.0 + i, time)  # must never leak in
        telemetry_store.submit("u2", "temp", -1.0, time)  # nor another unit's
    assert await telemetry_store.flush(within=10)
    return samples


def in_range(samples: list[tuple[datetime, float | str]]) -> list[tuple[datetime, float | str]]:
    """Return the samples in [START, END)."""
    return [(t, v) for t, v in samples if START <= t < END]


def by_bucket(
    samples: list[tuple[datetime, float | str]],
) -> dict[datetime, list[tuple[datetime, float | str]]]:
    """Group samples by their clock-aligned bucket."""
    groups: dict[datetime, list[tuple[datetime, float | str]]] = defaultdict(list)
    for time, value in samples:
        groups[ORIGIN + (time - ORIGIN) // BUCKET * BUCKET].append((time, value))
    return dict(sorted(groups.items()))


def numbers(group: list[tuple[datetime, float | str]]) -> list[float]:
    """Return the numeric values of a group."""
    return [v for _, v in group if isinstance(v, float)]


EXPECTED = {
    Aggregation.AVG: lambda group: statistics.fmean(numbers(group)),
    Aggregation.MIN: lambda group: min(numbers(group)),
    Aggregation.MAX: lambda group: max(numbers(group)),
    Aggregation.MEDIAN: lambda group: statistics.median(numbers(group)),
    Aggregation.COUNT: len,
    Aggregation.LAST: lambda group: max(group)[1],
}


@pytest.mark.parametrize("aggregation", list(EXPECTED))
async def test_bucketed_aggregates_match_python(
    telemetry_store: TelemetryStore,
    history: list[tuple[datetime, float | str]],
    aggregation: Aggregation,
) -> None:
    """Each 10-minute bucket's aggregate equals the one computed here."""
    result = await telemetry_store.get_history(
        "u1", "temp", START, END, aggregation=aggregation, bucket=BUCKET
    )
    expected = {b: EXPECTED[aggregation](g) for b, g in by_bucket(in_range(history)).items()}
    assert [p.time for p in result.points] == list(expected)
    assert result.points[0].time < START  # aligned to the clock, not to the range
    for point in result.points:
        assert point.value == pytest.approx(expected[point.time], rel=1e-12)
    assert not result.truncated


@pytest.mark.parametrize("aggregation", list(EXPECTED))
async def test_whole_range_aggregates_match_python(
    telemetry_store: TelemetryStore,
    history: list[tuple[datetime, float | str]],
    aggregation: Aggregation,
) -> None:
    """Without a bucket one point covers the whole range, stamped with its start."""
    result = await telemetry_store.get_history("u1", "temp", START, END, aggregation=aggregation)
    assert [p.time for p in result.points] == [START]
    assert result.points[0].value == pytest.approx(EXPECTED[aggregation](in_range(history)))


async def test_raw_returns_every_sample_in_order(
    telemetry_store: TelemetryStore, history: list[tuple[datetime, float | str]]
) -> None:
    """Raw samples come back as stored, text included; a limit truncates and says so."""
    result = await telemetry_store.get_history("u1", "temp", START, END)
    assert [(p.time, p.value) for p in result.points] == in_range(history)
    limited = await telemetry_store.get_history("u1", "temp", START, END, limit=10)
    assert [(p.time, p.value) for p in limited.points] == in_range(history)[:10]
    assert limited.truncated
    response = limited.as_dict()
    assert response["points"][0] == {"time": START.isoformat(), "value": in_range(history)[0][1]}
    assert response["aggregation"] == "raw"


async def test_empty_range(telemetry_store: TelemetryStore) -> None:
    """No samples: no raw points, no buckets; a whole-range count is 0, an average None."""
    later = T0 + timedelta(days=30)
    end = later + timedelta(hours=1)
    assert (await telemetry_store.get_history("u1", "temp", later, end)).points == []
    bucketed = await telemetry_store.get_history(
        "u1", "temp", later, end, aggregation="avg", bucket=BUCKET
    )
    assert bucketed.points == []
    count = await telemetry_store.get_history("u1", "temp", later, end, aggregation="count")
    assert count.points[0].value == 0
    avg = await telemetry_store.get_history("u1", "temp", later, end, aggregation="avg")
    assert avg.points[0].value is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": END, "end": START}, "is not before end"),
        ({"start": START.replace(tzinfo=None)}, "time zone"),
        ({"aggregation": "mode"}, "unknown aggregation 'mode'"),
        ({"bucket": BUCKET}, "raw samples take no bucket"),
        ({"aggregation": "avg", "bucket": timedelta(0)}, "longer than 0"),
        ({"aggregation": "avg", "bucket": timedelta(seconds=0.01)}, "choose a bigger bucket"),
    ],
)
async def test_bad_queries_are_refused(
    telemetry_store: TelemetryStore, kwargs: dict[str, object], message: str
) -> None:
    """Arguments that make no sense raise QueryError saying why."""
    arguments: dict[str, object] = {"start": START, "end": END, **kwargs}
    start, end = arguments.pop("start"), arguments.pop("end")
    with pytest.raises(QueryError, match=message):
        await telemetry_store.get_history("u1", "temp", start, end, **arguments)  # type: ignore[arg-type]
