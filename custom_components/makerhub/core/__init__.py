"""Makerhub's pure-Python core: protocol, schema and runtime logic.

Nothing in this package imports ``homeassistant``; the integration is thin glue over it,
and these modules are tested on their own (``tests/components/makerhub/core``).
"""
