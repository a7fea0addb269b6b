"""The members' action: ``makerhub.sign_agreement`` (a member signs the space's
agreement; an admin, or an automation, may record it for another person)."""

from __future__ import annotations

from typing import Final

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from ..const import DOMAIN
from ..data import makerhub_data
from ..presence.manager import person_of_user
from ..projects.store import service_caller


async def _async_sign_agreement(call: ServiceCall) -> ServiceResponse:
    user = await service_caller(call)
    own = None if user is None else person_of_user(call.hass, user.id)
    person = call.data.get("person", own)
    if person is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="agreement_person")
    if user is not None and person != own and not user.is_admin:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_your_person",
            translation_placeholders={"person": person},
        )
    if call.hass.states.get(person) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_person",
            translation_placeholders={"person": person},
        )
    agreements = makerhub_data(call.hass).agreements
    recorded_by = None if user is None or person == own else user.id
    await agreements.async_sign(person, recorded_by)
    return agreements.status(person).to_json()


SERVICES: Final = {
    "sign_agreement": (
        _async_sign_agreement,
        vol.Schema({vol.Optional("person"): cv.entity_domain("person")}),
    ),
}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the members' actions."""
    for name, (handler, schema) in SERVICES.items():
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=SupportsResponse.OPTIONAL
        )
