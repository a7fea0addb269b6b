"""The Makerhub recorder service: cameras recorded with ffmpeg, time-lapses, retention."""
