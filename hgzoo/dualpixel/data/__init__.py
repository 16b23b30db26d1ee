"""Data for hgzoo.dualpixel."""
