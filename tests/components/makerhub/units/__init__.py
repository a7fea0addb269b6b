"""Tests of the units feature (custom_components/makerhub/units)."""

import pytest

# The shared entity contract asserts outside a test module: have pytest explain its failures.
pytest.register_assert_rewrite("tests.components.makerhub.units.entity_contract")
