"""Per-unit broker credentials: Mosquitto's dynamic-security plugin, or plain files.

Every adopted unit gets its own broker user (``mh-<uid>``) holding one role
(``makerhub-unit-<uid>``) whose ACLs let it publish only its own ``out``/``sys`` topics and
read only its own ``in``/``cmd``/``schema`` topics plus the outputs of other units linked to
its inputs. Links are routed by the broker, so the ACLs are what keeps units apart.

:class:`DynSecAdmin` keeps those users and roles in step through the plugin's topic API
(``$CONTROL/dynamic-security/v1``) while the broker runs. Brokers without the plugin get
the same policy as a mosquitto password file and ACL file (:func:`password_file`,
:func:`acl_file`), which the broker reads on start and on SIGHUP.

ACL design (checked against Mosquitto 2.0.11):

- Publishing (``publishClientSend``) and subscribing (``subscribePattern``) are allowed for
  exactly the unit's topics. ``subscribePattern`` ``P/<uid>/in/+`` lets a unit subscribe to
  each of its inputs, or to ``P/<uid>/in/+`` itself, but not to ``P/<uid>/in/#`` or any
  wider filter.
- ``publishClientReceive`` is allowed for the same topics, and the role ends with
  lowest-priority deny-all entries (``#``) for send, receive and subscribe. The plugin's
  default lets every client *receive* anything it is subscribed to, and subscriptions
  outlive ACL changes: without the receive entries a unit would keep getting an unlinked
  output until it reconnects. Receive checks run on every delivery, so unlinking is
  immediate. The deny-all entries also keep a unit confined whatever the broker's default
  ACL access or any group the broker's admin puts the client in.
- Adding or removing ACLs does not disconnect anyone; ``setClientPassword``,
  ``removeClientRole`` and ``deleteClient`` do disconnect the client's sessions.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
import hashlib
import json
import logging
import secrets
import ssl
from typing import Any, Final
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .protocol import ADOPTED, ANNOUNCE, UNIT_ID_RE, validate_prefix
from .schema import NAME_RE

_LOGGER = logging.getLogger(__name__)

REQUEST_TOPIC: Final = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC: Final = "$CONTROL/dynamic-security/v1/response"
DEFAULT_TIMEOUT: Final = 10.0

PUBLISH_SEND: Final = "publishClientSend"
PUBLISH_RECEIVE: Final = "publishClientReceive"
SUBSCRIBE_LITERAL: Final = "subscribeLiteral"
SUBSCRIBE_PATTERN: Final = "subscribePattern"
UNSUBSCRIBE_LITERAL: Final = "unsubscribeLiteral"
UNSUBSCRIBE_PATTERN: Final = "unsubscribePattern"
ACL_TYPES: Final = frozenset(
    {
        PUBLISH_SEND,
        PUBLISH_RECEIVE,
        SUBSCRIBE_LITERAL,
        SUBSCRIBE_PATTERN,
        UNSUBSCRIBE_LITERAL,
        UNSUBSCRIBE_PATTERN,
    }
)
DENY_PRIORITY: Final = -1
"""Priority of the deny-all entries: checked after every allow entry of the role."""

UNIT_SENDS: Final = ("status", "state", "log", "event")
UNIT_RECEIVES: Final = ("cmd", "schema")
ANNOUNCE_ROLE: Final = "makerhub-announce"

PASSWORD_ITERATIONS: Final = 101
"""PBKDF2 rounds in password files: what ``mosquitto_passwd`` 2.0 writes."""
PASSWORD_SALT_BYTES: Final = 12

_NOT_FOUND: Final = frozenset({"Client not found", "Role not found"})
_AUTH_REFUSED: Final = frozenset({134, 135})  # bad user name or password, not authorised


def unit_username(uid: str) -> str:
    """Return the broker user name of unit ``uid``."""
    return f"mh-{_uid(uid)}"


def unit_role(uid: str) -> str:
    """Return the dynamic-security role of unit ``uid``."""
    return f"makerhub-unit-{_uid(uid)}"


def new_password() -> str:
    """Return a fresh random broker password (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Acl:
    """One dynamic-security ACL entry; higher ``priority`` is checked first."""

    type: str
    topic: str
    allow: bool = True
    priority: int = 0

    def as_json(self) -> dict[str, Any]:
        """Return the entry as the plugin's JSON takes it."""
        return {
            "acltype": self.type,
            "topic": self.topic,
            "allow": self.allow,
            "priority": self.priority,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Acl:
        """Build an entry from the plugin's JSON (``getRole``)."""
        return cls(
            type=str(data["acltype"]),
            topic=str(data["topic"]),
            allow=bool(data.get("allow", False)),
            priority=int(data.get("priority", 0)),
        )


def _uid(uid: str) -> str:
    if not isinstance(uid, str) or UNIT_ID_RE.fullmatch(uid) is None:
        raise ValueError(f"not a unit id: {uid!r}")
    return uid


def _deny_all() -> set[Acl]:
    return {
        Acl(kind, "#", allow=False, priority=DENY_PRIORITY)
        for kind in (PUBLISH_SEND, PUBLISH_RECEIVE, SUBSCRIBE_PATTERN)
    }


def _readable(topics: Iterable[str]) -> set[Acl]:
    return {Acl(kind, topic) for topic in topics for kind in (SUBSCRIBE_PATTERN, PUBLISH_RECEIVE)}


def validate_linked_topic(prefix: str, topic: str) -> str:
    """Return ``topic`` if it is one output of one unit (``P/<uid>/out/<name>``).

    Raises ValueError otherwise: wildcards, other namespaces or malformed names would let a
    link widen what a unit can read.
    """
    head = f"{prefix}/"
    parts = topic[len(head) :].split("/") if topic.startswith(head) else []
    if (
        len(parts) != 3
        or UNIT_ID_RE.fullmatch(parts[0]) is None
        or parts[1] != "out"
        or NAME_RE.fullmatch(parts[2]) is None
    ):
        raise ValueError(f"not a unit output topic under {prefix!r}: {topic!r}")
    return topic


def unit_acls(prefix: str, uid: str, linked_topics: Iterable[str]) -> frozenset[Acl]:
    """Return the complete ACL set of unit ``uid``'s role.

    Send: ``P/uid/out/+`` and ``P/uid/sys/{status,state,log,event}``. Subscribe and receive:
    ``P/uid/in/+``, ``P/uid/sys/{cmd,schema}`` and each linked output topic. Then deny-all
    entries for send, receive and subscribe at :data:`DENY_PRIORITY`.
    """
    validate_prefix(prefix)
    base = f"{prefix}/{_uid(uid)}"
    linked = [validate_linked_topic(prefix, topic) for topic in linked_topics]
    acls = {Acl(PUBLISH_SEND, f"{base}/out/+")}
    acls |= {Acl(PUBLISH_SEND, f"{base}/sys/{name}") for name in UNIT_SENDS}
    acls |= _readable([f"{base}/in/+", *(f"{base}/sys/{name}" for name in UNIT_RECEIVES)])
    acls |= _readable(linked)
    return frozenset(acls | _deny_all())


def announce_acls(prefix: str) -> frozenset[Acl]:
    """Return the ACLs of a role shared by self-describing units before adoption.

    Allows publishing ``P/announce/<id>`` and reading ``P/announce/<id>/adopted`` for any
    id: one shared credential can spoof another announcer's id or read any adoption
    reply. That is acceptable only because adoption needs a user's confirmation and the
    reply carries ``schema.json`` (topic names), never credentials.
    """
    base = f"{validate_prefix(prefix)}/{ANNOUNCE}/+"
    acls = {Acl(PUBLISH_SEND, base)} | _readable([f"{base}/{ADOPTED}"])
    return frozenset(acls | _deny_all())


def hub_acls(prefix: str) -> frozenset[Acl]:
    """Return the ACLs of the hub's own broker user: everything under ``P/``."""
    topic = f"{validate_prefix(prefix)}/#"
    return frozenset(
        Acl(kind, topic) for kind in (PUBLISH_SEND, PUBLISH_RECEIVE, SUBSCRIBE_PATTERN)
    )


# Errors


class DynSecError(Exception):
    """A dynamic-security command failed; ``command`` and ``error`` say which and why."""

    def __init__(self, message: str, *, command: str | None = None, error: str = "") -> None:
        """Keep the failing command's name and the broker's error text."""
        super().__init__(message)
        self.command = command
        self.error = error


class DynSecAuthError(DynSecError):
    """The admin credentials were refused, or lack access to ``$CONTROL``."""


class DynSecUnavailableError(DynSecError):
    """The broker cannot be reached, or nothing answers on ``$CONTROL`` (no plugin)."""


def _describe(command: Mapping[str, Any]) -> str:
    """Return a command for messages: its name and subject, never a password."""
    name = str(command.get("command", "?"))
    subject = [str(command[key]) for key in ("username", "rolename", "groupname") if key in command]
    if "acltype" in command:
        subject.append(f"{command['acltype']} {command.get('topic', '')}".rstrip())
    return f"{name} {' '.join(subject)}".rstrip()


# Results


@dataclass(frozen=True, slots=True)
class AclChanges:
    """What reconciling a role's ACLs changed (a changed entry is in both sets)."""

    added: frozenset[Acl] = frozenset()
    removed: frozenset[Acl] = frozenset()
    created: bool = False

    @property
    def changed(self) -> bool:
        """Return whether anything changed on the broker."""
        return self.created or bool(self.added or self.removed)


@dataclass(frozen=True, slots=True)
class ClientChanges:
    """What reconciling a client changed."""

    created: bool = False
    roles_added: frozenset[str] = frozenset()
    roles_removed: frozenset[str] = frozenset()
    password_set: bool = False

    @property
    def changed(self) -> bool:
        """Return whether anything changed on the broker."""
        return self.created or self.password_set or bool(self.roles_added or self.roles_removed)


@dataclass(frozen=True, slots=True)
class UnitChanges:
    """What :meth:`DynSecAdmin.ensure_unit` changed."""

    role: AclChanges = field(default_factory=AclChanges)
    client: ClientChanges = field(default_factory=ClientChanges)

    @property
    def changed(self) -> bool:
        """Return whether anything changed on the broker."""
        return self.role.changed or self.client.changed


# The admin connection


class DynSecAdmin:
    """An admin connection to the dynamic-security plugin, usable from asyncio.

    paho runs its network loop on its own thread (``loop_start``) and reconnects by itself;
    its callbacks are handed to the event loop with ``call_soon_threadsafe``. Commands go
    out as one ``{"commands": [...]}`` message per batch, each command tagged with
    ``correlationData``; the broker answers the batch in one message. A batch is not
    atomic: the plugin runs each command in turn, even after one fails.
    """

    def __init__(
        self,
        host: str,
        port: int = 1883,
        username: str = "",
        password: str = "",
        *,
        tls: bool = False,
        client_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Prepare the connection; nothing happens before :meth:`connect`."""
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.tls = tls
        self.client_id = client_id or f"makerhub-dynsec-{secrets.token_hex(4)}"
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._client: mqtt.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._up = asyncio.Event()
        self._established = False  # accepted once since connect(); read by paho's thread
        self._error: DynSecError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._pending: dict[str, asyncio.Future[list[dict[str, Any]]]] = {}
        self._published: dict[int, str] = {}

    def __repr__(self) -> str:
        """Describe the connection without its password."""
        return f"DynSecAdmin({self.username!r}@{self.host}:{self.port}, tls={self.tls})"

    @property
    def connected(self) -> bool:
        """Return whether the connection is up and subscribed to the responses."""
        return self._up.is_set()

    async def __aenter__(self) -> DynSecAdmin:
        """Connect."""
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close."""
        await self.close()

    async def connect(self) -> None:
        """Connect and subscribe to the plugin's responses.

        Raises DynSecAuthError when the broker refuses the credentials or the user may not
        use ``$CONTROL``, DynSecUnavailableError when the broker cannot be reached.
        """
        if self._client is not None:
            raise RuntimeError("already connected; close() first")
        loop = self._loop = asyncio.get_running_loop()
        self._error = None
        self._established = False
        waiter = self._waiter = loop.create_future()
        start = loop.run_in_executor(None, self._start_client)
        try:
            self._client = await asyncio.shield(start)
            await asyncio.wait_for(asyncio.shield(waiter), self.timeout)
        except BaseException as err:
            self._waiter = None
            if not waiter.done():
                waiter.cancel()
            if self._client is None:  # cancelled while paho was connecting: stop it too
                with contextlib.suppress(BaseException):
                    self._client = await start
            await self.close()
            if isinstance(err, TimeoutError):
                raise DynSecUnavailableError(
                    f"{self.host}:{self.port} did not accept the connection within {self.timeout}s"
                ) from None
            raise
        self._waiter = None

    def _start_client(self) -> mqtt.Client:
        """Create, connect and start the paho client (blocking: runs in an executor)."""
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        client.connect_timeout = self.timeout
        client.reconnect_delay_set(1, 30)
        client.username_pw_set(self.username or None, self._password or None)
        if self.tls:
            client.tls_set_context(self._ssl_context or ssl.create_default_context())
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        try:
            client.connect(self.host, self.port, keepalive=30)
        except (OSError, ValueError) as err:
            raise DynSecUnavailableError(
                f"cannot connect to {self.host}:{self.port}: {err}"
            ) from None
        client.loop_start()
        return client

    async def close(self) -> None:
        """Disconnect and stop paho's thread; pending commands fail."""
        client, self._client = self._client, None
        self._set_down(DynSecUnavailableError("connection closed"))
        if client is None:
            return
        client.disconnect()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, client.loop_stop)

    # paho callbacks: paho's thread; everything is handed to the event loop

    def _post(self, callback: Any, *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(callback, *args)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            auth = reason.value in _AUTH_REFUSED
            if auth or not self._established:
                # connect() gives up, or retrying cannot help until the credentials are
                # fixed: stop paho's reconnects.
                client.disconnect()
            cls = DynSecAuthError if auth else DynSecUnavailableError
            self._post(self._set_down, cls(f"the broker refused {self.username!r}: {reason}"))
            return
        client.subscribe(RESPONSE_TOPIC, qos=1)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        if any(reason.is_failure for reason in reasons):
            self._post(
                self._set_down,
                DynSecAuthError(f"{self.username!r} may not subscribe to {RESPONSE_TOPIC}"),
            )
        else:
            self._post(self._set_up)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._post(self._set_down, DynSecUnavailableError(f"connection lost: {reason}"))

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            self._post(self._refused, mid, str(reason))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._post(self._response, message.payload)

    # event-loop side

    def _set_up(self) -> None:
        self._error = None
        self._established = True
        self._up.set()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _set_down(self, error: DynSecError) -> None:
        if self._error is None or isinstance(error, DynSecAuthError):
            self._error = error
        self._up.clear()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        pending, self._pending = self._pending, {}
        self._published.clear()
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    def _refused(self, mid: int, reason: str) -> None:
        key = self._published.pop(mid, None)
        future = self._pending.pop(key, None) if key is not None else None
        if future is not None and not future.done():
            future.set_exception(
                DynSecAuthError(f"{self.username!r} may not publish to {REQUEST_TOPIC}: {reason}")
            )

    def _response(self, payload: bytes) -> None:
        try:
            responses = json.loads(payload)["responses"]
            correlation = next(
                str(item["correlationData"])
                for item in responses
                if isinstance(item, dict) and "correlationData" in item
            )
        except (ValueError, KeyError, TypeError, StopIteration):
            _LOGGER.debug("Ignoring a dynamic-security response without correlation data")
            return
        future = self._pending.pop(correlation.partition(":")[0], None)
        if future is not None and not future.done():
            future.set_result([item if isinstance(item, dict) else {} for item in responses])

    # commands

    async def _send(self, commands: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Run a batch and return the plugin's responses in command order, unchecked."""
        if not commands:
            return []
        client = self._client
        if client is None or self._loop is None:
            raise DynSecUnavailableError("not connected; call connect() first")
        names = [_describe(command) for command in commands]
        if not self._up.is_set():
            try:
                await asyncio.wait_for(self._up.wait(), self.timeout)
            except TimeoutError:
                error = self._error or DynSecUnavailableError("not connected")
                raise type(error)(str(error), command=error.command, error=error.error) from None
        key = uuid.uuid4().hex
        tagged = [
            {**command, "correlationData": f"{key}:{index}"}
            for index, command in enumerate(commands)
        ]
        future: asyncio.Future[list[dict[str, Any]]] = self._loop.create_future()
        self._pending[key] = future
        mid = -1
        try:
            info = client.publish(REQUEST_TOPIC, json.dumps({"commands": tagged}), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:  # pragma: no cover - dropped just now
                raise DynSecUnavailableError(f"{names[0]}: cannot send ({info.rc.name})")
            mid = info.mid
            self._published[mid] = key
            _LOGGER.debug("dynsec: %s", ", ".join(names))
            try:
                responses = await asyncio.wait_for(asyncio.shield(future), self.timeout)
            except TimeoutError:
                raise DynSecUnavailableError(
                    f"{names[0]}: no answer on {RESPONSE_TOPIC} within {self.timeout}s "
                    "(is the dynamic-security plugin loaded?)",
                    command=str(commands[0].get("command")),
                ) from None
        finally:
            self._pending.pop(key, None)
            self._published.pop(mid, None)
        if len(responses) != len(commands):
            raise DynSecError(
                f"{names[0]}: {len(responses)} responses to {len(commands)} commands",
                command=str(commands[0].get("command")),
            )
        return responses

    async def command(self, commands: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Run a batch of commands and return the responses, in order.

        Raises DynSecError naming the first command the plugin refused and its error; the
        commands before and after it have still run.
        """
        responses = await self._send(commands)
        for command, response in zip(commands, responses, strict=True):
            _check(response, command)
        return responses

    async def check(self) -> int:
        """Verify that the admin credentials work; return how many clients there are."""
        (response,) = await self.command([{"command": "listClients", "count": 1, "offset": 0}])
        return int(response.get("data", {}).get("totalCount", 0))

    async def get_role(self, rolename: str) -> frozenset[Acl] | None:
        """Return a role's ACLs, or None when there is no such role."""
        (response,) = await self._send([{"command": "getRole", "rolename": rolename}])
        if response.get("error") == "Role not found":
            return None
        _check(response, {"command": "getRole", "rolename": rolename})
        acls = response.get("data", {}).get("role", {}).get("acls", [])
        return frozenset(Acl.from_json(acl) for acl in acls)

    async def get_client(self, username: str) -> dict[str, Any] | None:
        """Return a client as the plugin describes it, or None when there is none."""
        (response,) = await self._send([{"command": "getClient", "username": username}])
        if response.get("error") == "Client not found":
            return None
        _check(response, {"command": "getClient", "username": username})
        client: dict[str, Any] = response.get("data", {}).get("client", {})
        return client

    async def ensure_role(
        self, rolename: str, acls: Iterable[Acl], *, create: bool = True
    ) -> AclChanges:
        """Make the role's ACLs exactly ``acls``, creating the role if ``create``.

        Raises DynSecError (``getRole``: Role not found) for a missing role otherwise.
        """
        wanted = frozenset(acls)
        for acl in wanted:
            if acl.type not in ACL_TYPES:
                raise ValueError(f"unknown ACL type {acl.type!r}")
        current = await self.get_role(rolename)
        if current is None and not create:
            raise DynSecError(
                f"getRole {rolename}: Role not found", command="getRole", error="Role not found"
            )
        if current is None:
            acl_json = [acl.as_json() for acl in sorted(wanted, key=_acl_order)]
            await self.command([{"command": "createRole", "rolename": rolename, "acls": acl_json}])
            return AclChanges(added=wanted, created=True)
        by_key = {(acl.type, acl.topic): acl for acl in wanted}
        removed = frozenset(acl for acl in current if by_key.get((acl.type, acl.topic)) != acl)
        added = wanted - current
        commands: list[dict[str, Any]] = [
            {
                "command": "removeRoleACL",
                "rolename": rolename,
                "acltype": acl.type,
                "topic": acl.topic,
            }
            for acl in sorted(removed, key=_acl_order)
        ]
        commands += [
            {"command": "addRoleACL", "rolename": rolename, **acl.as_json()}
            for acl in sorted(added, key=_acl_order)
        ]
        await self.command(commands)
        return AclChanges(added=added, removed=removed)

    async def ensure_client(
        self, username: str, password: str | None, rolenames: Iterable[str]
    ) -> ClientChanges:
        """Create the client with exactly these roles, or make its roles exactly these.

        ``password`` is set when given (always needed to create the client). Changing the
        password or removing a role disconnects the client's sessions.
        """
        roles = frozenset(rolenames)
        current = await self.get_client(username)
        if current is None:
            if not password:
                raise ValueError(f"a password is needed to create {username!r}")
            await self.command(
                [
                    {
                        "command": "createClient",
                        "username": username,
                        "password": password,
                        "roles": [{"rolename": role} for role in sorted(roles)],
                    }
                ]
            )
            return ClientChanges(created=True, roles_added=roles, password_set=True)
        have = frozenset(str(role["rolename"]) for role in current.get("roles", []))
        added, removed = roles - have, have - roles
        commands: list[dict[str, Any]] = [
            {"command": "addClientRole", "username": username, "rolename": role}
            for role in sorted(added)
        ]
        commands += [
            {"command": "removeClientRole", "username": username, "rolename": role}
            for role in sorted(removed)
        ]
        if password:
            commands.append(
                {"command": "setClientPassword", "username": username, "password": password}
            )
        await self.command(commands)
        return ClientChanges(roles_added=added, roles_removed=removed, password_set=bool(password))

    async def ensure_unit(
        self, prefix: str, uid: str, password: str | None, linked_topics: Iterable[str]
    ) -> UnitChanges:
        """Create unit ``uid``'s role and client, or bring them to the wanted state.

        The role's ACLs become exactly :func:`unit_acls`; the client holds exactly that role;
        the password is set when given.
        """
        acls = unit_acls(prefix, uid, linked_topics)
        role = await self.ensure_role(unit_role(uid), acls)
        client = await self.ensure_client(unit_username(uid), password, [unit_role(uid)])
        return UnitChanges(role=role, client=client)

    async def set_unit_links(
        self, prefix: str, uid: str, linked_topics: Iterable[str]
    ) -> AclChanges:
        """Make the unit's readable outputs of other units exactly ``linked_topics``.

        Receiving stops at once for removed links; a new link needs the unit to subscribe
        (it does when it gets its new ``schema.json``), so change links before that.
        """
        acls = unit_acls(prefix, uid, linked_topics)
        return await self.ensure_role(unit_role(uid), acls, create=False)

    async def rotate_password(self, uid: str, password: str) -> None:
        """Set a new password for unit ``uid``; its connected sessions are dropped."""
        if not password:
            raise ValueError("the new password is empty")
        await self.command(
            [{"command": "setClientPassword", "username": unit_username(uid), "password": password}]
        )

    async def remove_unit(self, uid: str) -> bool:
        """Delete unit ``uid``'s client and role; return whether either existed."""
        commands = [
            {"command": "deleteClient", "username": unit_username(uid)},
            {"command": "deleteRole", "rolename": unit_role(uid)},
        ]
        responses = await self._send(commands)
        found = False
        for command, response in zip(commands, responses, strict=True):
            error = response.get("error")
            if error is None:
                found = True
            elif error not in _NOT_FOUND:
                _check(response, command)
        return found


def _check(response: Mapping[str, Any], command: Mapping[str, Any]) -> None:
    """Raise DynSecError when the plugin answered ``command`` with an error."""
    if "error" in response:
        raise DynSecError(
            f"{_describe(command)}: {response['error']}",
            command=str(command.get("command")),
            error=str(response["error"]),
        )


def _acl_order(acl: Acl) -> tuple[str, str, bool, int]:
    return (acl.type, acl.topic, acl.allow, acl.priority)


# Fallback: password file and ACL file


def hash_password(
    password: str, *, salt: bytes | None = None, iterations: int = PASSWORD_ITERATIONS
) -> str:
    """Return ``password`` hashed as mosquitto's ``$7$`` (PBKDF2-HMAC-SHA512) format."""
    salt = secrets.token_bytes(PASSWORD_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    encoded_salt = base64.b64encode(salt).decode()
    return f"$7${iterations}${encoded_salt}${base64.b64encode(digest).decode()}"


def _check_username(username: str) -> str:
    if not username or any(char in username for char in ":\r\n\0") or username != username.strip():
        raise ValueError(f"not usable as a mosquitto user name: {username!r}")
    return username


def password_file(entries: Mapping[str, str], *, iterations: int = PASSWORD_ITERATIONS) -> str:
    """Return a mosquitto password file for ``{username: password}``, hashed (``$7$``)."""
    lines = []
    for username, password in sorted(entries.items()):
        _check_username(username)
        if not password:
            raise ValueError(f"empty password for {username!r}")
        lines.append(f"{username}:{hash_password(password, iterations=iterations)}")
    return "".join(f"{line}\n" for line in lines)


def _acl_file_section(username: str, acls: Iterable[Acl]) -> list[str]:
    """Return ``user``/``topic`` lines equivalent to a role's allow entries.

    In an ACL file ``read`` covers both subscribing and receiving and everything not
    listed is denied, so receive entries and the deny-all entries need no line.
    """
    lines = [f"user {_check_username(username)}"]
    for acl in sorted(acls, key=_acl_order):
        if not acl.allow:
            continue
        if acl.type == PUBLISH_SEND:
            lines.append(f"topic write {acl.topic}")
        elif acl.type in (SUBSCRIBE_PATTERN, SUBSCRIBE_LITERAL):
            lines.append(f"topic read {acl.topic}")
    return lines


def acl_file(
    prefix: str,
    units: Mapping[str, Iterable[str]],
    *,
    hub_username: str | None = None,
    announce_username: str | None = None,
) -> str:
    """Return a mosquitto ACL file for ``{uid: linked_topics}``, the same policy as dynsec.

    ``hub_username`` gets read and write access to ``P/#``; ``announce_username`` the
    shared pre-adoption access of :func:`announce_acls`.
    """
    validate_prefix(prefix)
    sections: list[list[str]] = []
    if hub_username is not None:
        sections.append([f"user {_check_username(hub_username)}", f"topic readwrite {prefix}/#"])
    if announce_username is not None:
        sections.append(_acl_file_section(announce_username, announce_acls(prefix)))
    for uid, linked in sorted(units.items()):
        sections.append(_acl_file_section(unit_username(uid), unit_acls(prefix, uid, linked)))
    return "\n".join("".join(f"{line}\n" for line in section) for section in sections)
