"""Outputs of a run: the interactive map and the export files in ``kaarten/``."""
