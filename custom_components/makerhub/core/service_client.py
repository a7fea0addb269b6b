"""What the clients of Makerhub's add-on services share: one bearer-token JSON request.

Pure Python (aiohttp only, no Home Assistant imports). A service's client
(``firmware_client``, ``desktops_client``) subclasses :class:`ServiceClient` and says
how its failures read (:meth:`ServiceClient._timed_out`, :meth:`ServiceClient._unreachable`,
:meth:`ServiceClient._no_json`, :meth:`ServiceClient._error`); the error answer's parts
and its exception class come from :func:`error_answer` and :func:`error_class`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
import json
import logging
from typing import Any, ClassVar

import aiohttp

_LOGGER = logging.getLogger(__name__)


class ServiceError(Exception):
    """A service refused a request, failed, or could not be reached.

    ``message`` is the service's own message, ``code`` its error code (``unreachable``
    when there was no answer) and ``status`` the HTTP status (None without an answer).
    """

    default_code: ClassVar[str] = "error"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        """Keep the message, status and code."""
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code or self.default_code


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """An error answer's parts: its error code, message (never empty) and JSON object."""

    code: str | None
    message: str
    body: dict[str, Any] | None


def loads(raw: bytes) -> Any:
    """Return the JSON in ``raw`` (ValueError when there is none)."""
    return json.loads(raw)


def error_answer(status: int, raw: bytes, service: str) -> ErrorAnswer:
    """Read an error answer ``{"error": code, "message": …}`` of ``service``."""
    try:
        data = loads(raw)
    except ValueError:
        data = None
    body = data if isinstance(data, dict) else None
    code = body.get("error") if body is not None else None
    message = body.get("message") if body is not None else None
    if not isinstance(message, str) or not message:
        message = f"the {service} service answered HTTP {status}"
    return ErrorAnswer(code if isinstance(code, str) else None, message, body)


def error_class[E: Exception](
    answer: ErrorAnswer,
    status: int,
    by_code: Mapping[str, type[E]],
    by_status: Mapping[int, type[E]],
    default: type[E],
) -> tuple[type[E], str | None]:
    """Return the exception class for an error answer and its code if the client knows it."""
    known = answer.code if answer.code in by_code else None
    if known is not None:
        return by_code[known], known
    return by_status.get(status, default), None


class ServiceClient(ABC):
    """A service's API as one token sees it: base URL, token, timeouts and one request."""

    service: ClassVar[str]
    """The service's name in messages and logs (``firmware``, ``desktops``)."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, token: str, *, timeout: float
    ) -> None:
        """Use ``session`` (not closed here) to reach ``base_url`` with ``token``."""
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def __repr__(self) -> str:
        """Name the service, never the token."""
        return f"{type(self).__name__}({self.base_url!r})"

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def _request_json(
        self,
        method: str,
        path: str,
        seconds: float,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request; return its JSON answer (None for 204) or raise."""
        try:
            async with self._session.request(
                method,
                self.base_url + path,
                headers=self._headers,
                json=json,
                params=params,
                timeout=aiohttp.ClientTimeout(total=seconds),
                allow_redirects=False,
            ) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError as err:
            raise self._timed_out(method, path, seconds) from err
        except aiohttp.ClientError as err:
            raise self._unreachable(method, path, err) from err
        _LOGGER.debug("%s service %s %s: %s", self.service, method, path, status)
        if status >= 300:
            raise self._error(status, raw)
        if status == 204 or not raw:
            return None
        try:
            return loads(raw)
        except ValueError:
            raise self._no_json(method, path, status) from None

    @abstractmethod
    def _timed_out(self, method: str, path: str, seconds: float) -> Exception:
        """Return the error for a request not answered within ``seconds``."""

    @abstractmethod
    def _unreachable(self, method: str, path: str, err: aiohttp.ClientError) -> Exception:
        """Return the error for a request that reached no service."""

    @abstractmethod
    def _no_json(self, method: str, path: str, status: int) -> Exception:
        """Return the error for a success answer that is not JSON."""

    @abstractmethod
    def _error(self, status: int, raw: bytes) -> Exception:
        """Return the error an error answer stands for."""

    def _redact(self, text: str) -> str:
        """Return ``text`` with the API token masked (it should never be there)."""
        return text.replace(self._token, "***") if self._token else text
