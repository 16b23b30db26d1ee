"""Data for hgzoo.dialogue: personas, strategies, attitude states, corpus readers."""
