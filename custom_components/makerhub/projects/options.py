"""The projects' sections of the options flow: the space's open-source policy, the
Todoist sync interval, the agreement members sign and the monthly budget (``projects``),
and people's GitHub and Todoist accounts (``accounts``: each token checked with its
service, then kept sealed by :class:`~.accounts.Accounts`; the form never shows a stored one)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.helpers import selector
import voluptuous as vol

from ..const import (
    CONF_AGREEMENT_TEXT,
    CONF_MONTHLY_BUDGET,
    CONF_PROJECT_LICENCE,
    CONF_TODOIST_INTERVAL,
    DATA_PERSON,
    DEFAULT_TODOIST_INTERVAL,
)
from ..core.agreement import DEFAULT_AGREEMENT, MAX_AGREEMENT
from ..core.github import GitHubError
from ..core.todoist import TodoistError
from ..data import makerhub_data
from ..flows import PASSWORD, OptionsSection, box_number, people_with_users, person_selector
from ..presence.manager import person_name
from .accounts import Service, async_check_token
from .flow import LICENCE_OPTIONS, MULTILINE, policy_licence, service_error

PROJECTS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PROJECT_LICENCE): selector.SelectSelector(
            selector.SelectSelectorConfig(
                options=list(LICENCE_OPTIONS), translation_key=CONF_PROJECT_LICENCE
            )
        ),
        vol.Required(CONF_TODOIST_INTERVAL): box_number(5, 1440, unit="min"),
        vol.Optional(CONF_AGREEMENT_TEXT): MULTILINE,
        vol.Optional(CONF_MONTHLY_BUDGET): box_number(0, 1_000_000_000, step="any"),
    }
)


class ProjectsOptions(OptionsSection):
    """The options flow's ``projects`` and ``accounts`` steps."""

    async def async_step_projects(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set the space's open-source policy, how often projects sync with Todoist, the
        agreement members sign before their first project and the monthly budget."""
        options = self.config_entry.options
        if user_input is not None:
            text = str(user_input.get(CONF_AGREEMENT_TEXT) or "").strip()
            if len(text) > MAX_AGREEMENT:
                return self.async_show_form(
                    step_id="projects",
                    data_schema=self.add_suggested_values_to_schema(PROJECTS_SCHEMA, user_input),
                    errors={CONF_AGREEMENT_TEXT: "invalid_agreement"},
                    description_placeholders={"max": str(MAX_AGREEMENT)},
                )
            return self.save(
                {
                    CONF_PROJECT_LICENCE: user_input[CONF_PROJECT_LICENCE],
                    CONF_TODOIST_INTERVAL: int(user_input[CONF_TODOIST_INTERVAL]),
                    # The default is not stored: a later Makerhub's default then applies.
                    CONF_AGREEMENT_TEXT: "" if text == DEFAULT_AGREEMENT else text,
                    CONF_MONTHLY_BUDGET: float(user_input.get(CONF_MONTHLY_BUDGET) or 0),
                }
            )
        return self.async_show_form(
            step_id="projects",
            data_schema=self.add_suggested_values_to_schema(
                PROJECTS_SCHEMA,
                {
                    CONF_PROJECT_LICENCE: policy_licence(options.get(CONF_PROJECT_LICENCE)),
                    CONF_TODOIST_INTERVAL: options.get(
                        CONF_TODOIST_INTERVAL, DEFAULT_TODOIST_INTERVAL
                    ),
                    CONF_AGREEMENT_TEXT: options.get(CONF_AGREEMENT_TEXT) or DEFAULT_AGREEMENT,
                    CONF_MONTHLY_BUDGET: options.get(CONF_MONTHLY_BUDGET, 0),
                },
            ),
            description_placeholders={"max": str(MAX_AGREEMENT)},
        )

    async def async_step_accounts(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect (or forget) a person's GitHub and Todoist accounts; each token is
        checked with its service and stored encrypted."""
        people = people_with_users(self.hass)
        if not people:
            return self.async_abort(reason="no_people")
        accounts = makerhub_data(self.hass).accounts
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            person = user_input[DATA_PERSON]
            changes: dict[Service, str | None] = {}
            for service in Service:
                token = (user_input.get(f"{service.value}_token") or "").strip()
                if user_input.get(f"forget_{service.value}"):
                    changes[service] = None
                elif token:
                    try:
                        await async_check_token(self.hass, service, token)
                    except (GitHubError, TodoistError) as err:
                        errors[f"{service.value}_token"] = service_error(err)
                        placeholders["error"] = str(err)
                    else:
                        changes[service] = token
            if not errors:
                for service, value in changes.items():
                    await accounts.async_set(person, service, value)
                return self.save({})
        fields: dict[vol.Marker, Any] = {}
        for service in Service:
            fields[vol.Optional(f"{service.value}_token")] = PASSWORD
            fields[vol.Optional(f"forget_{service.value}")] = bool
        schema = vol.Schema(
            {
                vol.Required(DATA_PERSON): person_selector(
                    people,
                    lambda person: (
                        f"{person_name(self.hass, person)} ("
                        + (", ".join(accounts.connected(person)) or "—")
                        + ")"
                    ),
                ),
                **fields,
            }
        )
        suggested = (
            {DATA_PERSON: sorted(people)[0]}
            if user_input is None
            else {DATA_PERSON: user_input[DATA_PERSON]}
        )
        return self.async_show_form(
            step_id="accounts",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )
