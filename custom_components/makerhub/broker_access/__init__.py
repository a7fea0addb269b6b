"""Broker access: per-unit broker credentials and the broker's access control."""
