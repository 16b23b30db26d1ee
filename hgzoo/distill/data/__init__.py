"""Data for hgzoo.distill."""
