"""The new-project wizard (a subentry of the hub) and the checks behind the accounts form.

The wizard asks what the project is, how it uses the space and its first steps, then
offers to create its GitHub repository (licence from the space's open-source policy, a
starter README) and its Todoist project, with the owner's connected accounts. Nothing is
stored until every chosen service has answered; a refused step shows GitHub's or Todoist's
reason on the form, and what was already created outside is not created twice.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import voluptuous as vol

from ..const import (
    CONF_PROJECT_LICENCE,
    DATA_PROJECT_ID,
    DEFAULT_PROJECT_LICENCE,
    NO_LICENCE,
    SUBENTRY_PROJECT,
)
from ..core.github import (
    LICENSES,
    GitHubAuthError,
    GitHubClient,
    GitHubConnectionError,
    GitHubError,
    GitHubNameTakenError,
    GitHubPermissionError,
    GitHubRateLimitError,
    Repository,
    licence_name,
)
from ..core.projects import ProjectRegistry, ProjectValidationError
from ..core.todoist import (
    TodoistAuthError,
    TodoistClient,
    TodoistConnectionError,
    TodoistError,
    TodoistRateLimitError,
)
from ..data import makerhub_data
from ..flows import HubSubentryFlow, people_with_users, person_selector
from ..presence.manager import person_name
from .accounts import Service, service_url

CONF_OWNER: Final = "owner"
CONF_DESCRIPTION: Final = "description"
CONF_SPACE_USE: Final = "space_use"
CONF_STEPS: Final = "steps"
CONF_CREATE_GITHUB: Final = "create_github"
CONF_PRIVATE: Final = "private"
CONF_CREATE_TODOIST: Final = "create_todoist"

MULTILINE = selector.TextSelector(selector.TextSelectorConfig(multiline=True))

LICENCE_OPTIONS: Final[dict[str, str | None]] = {
    **{licence.replace("-", "_").replace(".", "_"): licence for licence in LICENSES},
    NO_LICENCE: None,
}
"""The open-source policy's choices: option (stored, and a translation key, so no dots:
``apache_2_0``) → GitHub ``license_template`` (``apache-2.0``; None: no licence)."""


def policy_licence(stored: str | None) -> str:
    """Return the option of a stored open-source policy.

    Options are stored as they are; Makerhub 0.1 stored GitHub's key (``apache-2.0``),
    which maps to its option. Nothing stored is the default; anything else (a hand-edited
    entry) is no licence, which grants no rights the space did not choose.
    """
    if stored is None:
        return DEFAULT_PROJECT_LICENCE
    if stored in LICENCE_OPTIONS:
        return stored
    return next(
        (option for option, licence in LICENCE_OPTIONS.items() if licence == stored), NO_LICENCE
    )


def service_error(err: GitHubError | TodoistError) -> str:
    """Return the form error key of a GitHub or Todoist failure."""
    service = "github" if isinstance(err, GitHubError) else "todoist"
    if isinstance(err, GitHubNameTakenError):
        return "github_name_taken"
    if isinstance(err, GitHubAuthError | TodoistAuthError):
        return f"{service}_auth"
    if isinstance(err, GitHubPermissionError):
        return "github_permission"
    if isinstance(err, GitHubRateLimitError | TodoistRateLimitError):
        return f"{service}_rate_limited"
    if isinstance(err, GitHubConnectionError | TodoistConnectionError):
        return f"{service}_cannot_connect"
    return f"{service}_error"


def steps_of(text: str) -> list[str]:
    """Return the steps written one per line (blank lines and list markers dropped)."""
    return [
        line.strip().removeprefix("- ").removeprefix("* ").strip()
        for line in text.splitlines()
        if line.strip().removeprefix("- ").removeprefix("* ").strip()
    ]


class ProjectSubentryFlow(HubSubentryFlow):
    """The new-project wizard: what, how it uses the space, first steps, outside services."""

    def __init__(self) -> None:
        """Start empty."""
        self._data: dict[str, Any] = {}
        self._repository: Repository | None = None
        self._todoist_project_id: str | None = None

    def _fields(self) -> dict[str, Any]:
        return {
            "name": self._data[CONF_NAME],
            "description": self._data.get(CONF_DESCRIPTION, ""),
            "space_use": self._data.get(CONF_SPACE_USE, ""),
            "steps": steps_of(self._data.get(CONF_STEPS, "")),
        }

    def _problem(self) -> str | None:
        """Return what is wrong with the project so far (validated as the API would)."""
        try:
            ProjectRegistry().create(self._fields(), "owner")
        except ProjectValidationError as err:
            return str(err)
        return None

    def _answer_or_form(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: dict[str, Any] | None,
        suggested: dict[str, Any],
    ) -> SubentryFlowResult | None:
        """Keep a step's answers; return None when the project so far is valid, else the
        step's form (again, with what is wrong)."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            self._data.update(user_input)
            if (problem := self._problem()) is None:
                return None
            errors["base"] = "invalid_project"
            placeholders["error"] = problem
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Ask what the project is and whose it is."""
        self.hub_runtime()  # aborts "hub_not_loaded" unless the hub is loaded
        people = people_with_users(self.hass)
        if not people:
            return self.async_abort(reason="no_people")
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): str,
                vol.Required(CONF_OWNER): person_selector(
                    people, lambda person: person_name(self.hass, person)
                ),
                vol.Optional(CONF_DESCRIPTION): MULTILINE,
            }
        )
        suggested = {CONF_OWNER: sorted(people)[0]}
        if user_input is not None and (
            unsigned := makerhub_data(self.hass).agreements.unsigned_owner(
                people.get(user_input[CONF_OWNER], "")
            )
        ):
            return self.async_show_form(
                step_id="user",
                data_schema=self.add_suggested_values_to_schema(schema, user_input),
                errors={CONF_OWNER: "agreement_not_signed"},
                description_placeholders={"error": "", "person": person_name(self.hass, unsigned)},
            )
        if form := self._answer_or_form("user", schema, user_input, suggested):
            return form
        return await self.async_step_space()

    async def async_step_space(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask how the project uses the space, and its first steps (one per line)."""
        schema = vol.Schema(
            {vol.Optional(CONF_SPACE_USE): MULTILINE, vol.Optional(CONF_STEPS): MULTILINE}
        )
        if form := self._answer_or_form("space", schema, user_input, {}):
            return form
        return await self.async_step_services()

    async def async_step_services(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Offer the GitHub repository and the Todoist project; then create everything."""
        accounts = makerhub_data(self.hass).accounts
        person = self._data[CONF_OWNER]
        connected = accounts.connected(person)
        policy = policy_licence(self._get_entry().options.get(CONF_PROJECT_LICENCE))
        licence = LICENCE_OPTIONS[policy]
        errors: dict[str, str] = {}
        placeholders = {
            "person": person_name(self.hass, person),
            "accounts": ", ".join(s.value for s in connected) or "none",
            "licence": licence_name(licence),
            "error": "",
        }
        if user_input is not None:
            try:
                if user_input.get(CONF_CREATE_GITHUB) and self._repository is None:
                    self._repository = await self._async_create_repository(
                        person, licence, user_input
                    )
                if user_input.get(CONF_CREATE_TODOIST) and self._todoist_project_id is None:
                    self._todoist_project_id = await self._async_create_todoist(person)
            except _NotConnectedError as err:
                errors["base"] = f"{err.args[0]}_not_connected"
            except (GitHubError, TodoistError) as err:
                errors["base"] = service_error(err)
                placeholders["error"] = str(err)
            else:
                return self._create()
        schema = vol.Schema(
            {
                vol.Optional(CONF_CREATE_GITHUB): bool,
                vol.Optional(CONF_PRIVATE): bool,
                vol.Optional(CONF_CREATE_TODOIST): bool,
            }
        )
        suggested = user_input or {
            CONF_CREATE_GITHUB: Service.GITHUB in connected,
            CONF_PRIVATE: False,
            CONF_CREATE_TODOIST: Service.TODOIST in connected,
        }
        return self.async_show_form(
            step_id="services",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _token(self, person: str, service: Service) -> str:
        token = makerhub_data(self.hass).accounts.token(person, service)
        if token is None:
            raise _NotConnectedError(service.value)
        return token

    async def _async_create_repository(
        self, person: str, licence: str | None, user_input: dict[str, Any]
    ) -> Repository:
        client = GitHubClient(
            async_get_clientsession(self.hass),
            self._token(person, Service.GITHUB),
            service_url(Service.GITHUB),
        )
        fields = self._fields()
        return await client.create_project_repository(
            fields["name"],
            fields["description"],
            fields["space_use"],
            fields["steps"],
            licence,
            private=bool(user_input.get(CONF_PRIVATE)),
        )

    async def _async_create_todoist(self, person: str) -> str:
        client = TodoistClient(
            async_get_clientsession(self.hass),
            self._token(person, Service.TODOIST),
            service_url(Service.TODOIST),
        )
        return await client.create_project(self._data[CONF_NAME].strip())

    def _create(self) -> SubentryFlowResult:
        projects = makerhub_data(self.hass).projects
        owner = people_with_users(self.hass)[self._data[CONF_OWNER]]
        data = self._fields()
        if self._repository is not None:
            data["github_url"] = self._repository.html_url
        if self._todoist_project_id is not None:
            data["todoist_project_id"] = self._todoist_project_id
        project = projects.registry.create(data, owner)
        self.hub_runtime().project_devices.expect_subentry(project.id)
        projects.saved(project)
        return self.async_create_entry(
            title=project.name, data={DATA_PROJECT_ID: project.id}, unique_id=project.id
        )


class _NotConnectedError(Exception):
    """The owner has not connected the service (args[0] names it)."""


SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {SUBENTRY_PROJECT: ProjectSubentryFlow}
"""The projects' subentry types and their flows (gathered by the config flow)."""
