"""Cameras: recordings, time-lapses and live pictures of the space's cameras, recorded by
the recorder service."""
