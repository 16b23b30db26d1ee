"""Data for hgzoo.generation."""
