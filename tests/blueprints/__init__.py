"""Tests of the blueprints in ``blueprints/``: loaded, validated and run by Home Assistant."""
