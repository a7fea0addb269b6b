"""Unit protocol v1: topics, payloads and the generated ``schema.json``.

The wire contract is documented for firmware authors in ``docs/protocol.md``; this module
is its executable form on the hub side. Everything a unit sends passes through a parser
here that either returns a typed value or raises :class:`BadInputError` with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import json
import re
import secrets
from typing import Any, Final

from .errors import BadInputError, BadInputReason, SchemaError
from .schema import UnitSchema, parse_makerhub_json

PROTOCOL_VERSION: Final = 1
DEFAULT_PREFIX: Final = "makerhub"
MAX_PAYLOAD_BYTES: Final = 64 * 1024
UNIT_ID_RE: Final = re.compile(r"[0-9a-z]{12}")
ANNOUNCE_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
PREFIX_RE: Final = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
MAX_PREFIX_LENGTH: Final = 64
ANNOUNCE: Final = "announce"
ADOPTED: Final = "adopted"
SYS_TOPICS: Final = ("status", "state", "log", "cmd", "event", "schema")
STATUS_ONLINE: Final = "online"
STATUS_OFFLINE: Final = "offline"
LOG_LEVELS: Final = ("debug", "info", "warning", "error", "critical")
MAX_LOG_TEXT: Final = 1024


def new_unit_id() -> str:
    """Return a fresh hub-assigned unit id: 12 lowercase hex characters."""
    return secrets.token_hex(6)


def validate_prefix(prefix: str) -> str:
    """Return the topic prefix if usable, else raise ValueError saying why."""
    if not prefix or len(prefix) > MAX_PREFIX_LENGTH:
        raise ValueError(f"must be 1 to {MAX_PREFIX_LENGTH} characters")
    if PREFIX_RE.fullmatch(prefix) is None:
        raise ValueError(
            "only letters, digits, '_' and '-' in levels separated by '/', "
            "with no wildcard and no leading or trailing '/'"
        )
    return prefix


@dataclass(frozen=True, slots=True)
class UnitTopics:
    """The topics of one unit; the only place that builds them."""

    prefix: str
    uid: str

    @property
    def base(self) -> str:
        """Return ``P/<uid>``."""
        return f"{self.prefix}/{self.uid}"

    def output(self, name: str) -> str:
        """Return the topic a unit publishes an output value on."""
        return f"{self.base}/out/{name}"

    def input(self, name: str) -> str:
        """Return the retained topic the hub publishes an input's desired value on."""
        return f"{self.base}/in/{name}"

    def sys(self, name: str) -> str:
        """Return one of the unit's ``sys`` topics."""
        return f"{self.base}/sys/{name}"


def announce_topic(prefix: str, announce_id: str) -> str:
    """Return the retained topic a self-describing unit announces itself on."""
    return f"{prefix}/{ANNOUNCE}/{announce_id}"


def adopted_topic(prefix: str, announce_id: str) -> str:
    """Return the retained topic the hub hands an adopted unit its ``schema.json`` on."""
    return f"{prefix}/{ANNOUNCE}/{announce_id}/{ADOPTED}"


def decode_text(payload: bytes | str) -> str:
    """Return a payload as text, enforcing the size limit and UTF-8."""
    if isinstance(payload, str):
        if len(payload) > MAX_PAYLOAD_BYTES // 4 and len(payload.encode()) > MAX_PAYLOAD_BYTES:
            raise BadInputError(BadInputReason.OVERSIZED, _oversized(len(payload.encode())))
        return payload
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BadInputError(BadInputReason.OVERSIZED, _oversized(len(payload)))
    try:
        return payload.decode()
    except UnicodeDecodeError as err:
        raise BadInputError(BadInputReason.MALFORMED, f"not UTF-8 ({err.reason})") from None


def _oversized(size: int) -> str:
    return f"payload of {size} bytes exceeds the {MAX_PAYLOAD_BYTES} byte limit"


def decode_json(payload: bytes | str) -> Any:
    """Return a JSON payload as Python data, size-checked."""
    text = decode_text(payload)
    try:
        return json.loads(text)
    except ValueError as err:
        raise BadInputError(BadInputReason.MALFORMED, f"not valid JSON ({err})") from None


@dataclass(frozen=True, slots=True)
class UnitState:
    """A unit's periodic ``sys/state`` report."""

    version: str
    ip: str | None = None
    rssi: int | None = None
    mem_free: int | None = None
    mem_alloc: int | None = None
    uptime_ms: int | None = None
    freq: int | None = None


_STATE_INT_FIELDS: Final = ("rssi", "mem_free", "mem_alloc", "uptime_ms", "freq")


def parse_state(payload: bytes | str) -> UnitState:
    """Parse ``sys/state``; ``version`` is required, every other field optional."""
    data = decode_json(payload)
    if not isinstance(data, dict):
        raise BadInputError(BadInputReason.MALFORMED, "state must be a JSON object")
    version = data.get("version")
    if not isinstance(version, str) or not 0 < len(version) <= 64:
        raise BadInputError(BadInputReason.WRONG_TYPE, "state.version: required string (1-64)")
    ip = data.get("ip")
    if ip is not None and (not isinstance(ip, str) or len(ip) > 64):
        raise BadInputError(BadInputReason.WRONG_TYPE, "state.ip: must be a string")
    numbers: dict[str, int | None] = {}
    for key in _STATE_INT_FIELDS:
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadInputError(BadInputReason.WRONG_TYPE, f"state.{key}: must be an integer")
        numbers[key] = value
    return UnitState(version=version, ip=ip, **numbers)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One line a unit logged."""

    level: str
    text: str
    ts: float | None


def parse_log(payload: bytes | str) -> list[LogRecord]:
    """Parse ``sys/log``: one record or a list of them."""
    data = decode_json(payload)
    items = data if isinstance(data, list) else [data]
    records: list[LogRecord] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise BadInputError(BadInputReason.MALFORMED, "log: each record needs a text string")
        level = item.get("level", "info")
        if level not in LOG_LEVELS:
            raise BadInputError(BadInputReason.WRONG_TYPE, f"log.level: {level!r} is not a level")
        ts = item.get("ts")
        if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int | float)):
            raise BadInputError(BadInputReason.WRONG_TYPE, "log.ts: must be a number")
        records.append(LogRecord(level=level, text=item["text"][:MAX_LOG_TEXT], ts=ts))
    return records


UNIT_EVENTS: Final = frozenset({"update_started", "update_ok", "update_failed", "rolled_back"})


@dataclass(frozen=True, slots=True)
class UnitEvent:
    """A unit's ``sys/event`` report about an update."""

    event: str
    version: str | None
    error: str | None


def parse_event(payload: bytes | str) -> UnitEvent:
    """Parse ``sys/event``."""
    data = decode_json(payload)
    if not isinstance(data, dict) or data.get("event") not in UNIT_EVENTS:
        raise BadInputError(
            BadInputReason.MALFORMED, f"event: must be one of {', '.join(sorted(UNIT_EVENTS))}"
        )
    version, error = data.get("version"), data.get("error")
    if version is not None and not isinstance(version, str):
        raise BadInputError(BadInputReason.WRONG_TYPE, "event.version: must be a string")
    if error is not None and not isinstance(error, str):
        raise BadInputError(BadInputReason.WRONG_TYPE, "event.error: must be a string")
    return UnitEvent(event=data["event"], version=version, error=error)


@dataclass(frozen=True, slots=True)
class Announcement:
    """A self-describing unit's ``announce`` message."""

    announce_id: str
    name: str
    model: str | None
    schema: UnitSchema
    uid: str | None
    """The unit id the unit believes it has, once adopted; None before adoption."""


def parse_announce_topic(prefix: str, topic: str) -> str:
    """Return the announce id of ``P/announce/<id>``; raise for any other topic."""
    head = f"{prefix}/{ANNOUNCE}/"
    announce_id = topic[len(head) :] if topic.startswith(head) else ""
    if ANNOUNCE_ID_RE.fullmatch(announce_id) is None:
        raise BadInputError(
            BadInputReason.BAD_TOPIC, f"{topic!r} is not {head}<id> with id [A-Za-z0-9_-]{{1,64}}"
        )
    return announce_id


def parse_announcement(announce_id: str, payload: bytes | str) -> Announcement:
    """Parse an announcement; its ``schema`` is a full ``makerhub.json`` document."""
    data = decode_json(payload)
    if not isinstance(data, dict):
        raise BadInputError(BadInputReason.MALFORMED, "announcement must be a JSON object")
    try:
        schema = parse_makerhub_json(data.get("schema"), source="announcement schema")
    except SchemaError as err:
        raise BadInputError(BadInputReason.MALFORMED, str(err)) from None
    name = data.get("name", schema.name)
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise BadInputError(BadInputReason.WRONG_TYPE, "announcement.name: string of 1-64")
    model = data.get("model")
    if model is not None and (not isinstance(model, str) or len(model) > 64):
        raise BadInputError(BadInputReason.WRONG_TYPE, "announcement.model: string of 0-64")
    uid = data.get("unit")
    if uid is not None and (not isinstance(uid, str) or UNIT_ID_RE.fullmatch(uid) is None):
        raise BadInputError(BadInputReason.WRONG_TYPE, "announcement.unit: not a unit id")
    return Announcement(
        announce_id=announce_id, name=name.strip(), model=model, schema=schema, uid=uid
    )


def build_schema_json(
    topics: UnitTopics,
    schema: UnitSchema,
    links: Mapping[str, list[str]] | None = None,
    transforms: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
) -> dict[str, Any]:
    """Return a unit's ``schema.json``: every topic it uses, so it never builds one.

    ``links`` maps an input name to the ``out`` topics of other units feeding it; they
    follow the input's own ``in`` topic, so the broker routes links with no hub in between.
    ``transforms`` maps an input name to {linked topic: ``{"scale", "offset", "min",
    "max"}``}; only entries for listed inputs and linked topics are kept, and the section
    is left out when empty (units that predate it ignore it anyway).
    """
    links = links or {}
    transforms = transforms or {}
    document: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "unit": topics.uid,
        "inputs": {
            name: [topics.input(name), *links.get(name, [])] for name in sorted(schema.inputs)
        },
        "outputs": {name: [topics.output(name)] for name in sorted(schema.outputs)},
        "sys": {name: topics.sys(name) for name in SYS_TOPICS},
    }
    kept: dict[str, dict[str, dict[str, float]]] = {}
    for name in sorted(transforms.keys() & schema.inputs.keys()):
        by_topic = {
            topic: dict(transform)
            for topic, transform in sorted(transforms[name].items())
            if transform and topic in links.get(name, ())
        }
        if by_topic:
            kept[name] = by_topic
    if kept:
        document["transforms"] = kept
    return document


def command(cmd: str, **fields: Any) -> str:
    """Return a ``sys/cmd`` payload."""
    return json.dumps({"cmd": cmd, **fields}, separators=(",", ":"))
