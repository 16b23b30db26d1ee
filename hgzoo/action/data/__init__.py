"""Data for hgzoo.action."""
