"""Choosing a pattern (notebook 13): the checklist and its recommendation."""
