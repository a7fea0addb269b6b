"""The Makerhub recorder service: cameras recorded with ffmpeg, time-lapses, retention."""

__version__ = "0.1.0"
