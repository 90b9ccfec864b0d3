"""Deadlines in motion: the sweep that reminds, urges and escalates what a department neglects."""
