"""Firmware: repositories, units made from them, their updates and rollouts."""
