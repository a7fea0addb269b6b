"""Presence: who is at which station, from the stations' Bluetooth and the phones' reports."""
