"""Data for hgzoo.dialogue: personas, strategies, attitude states (JSON), per-turn examples, corpus readers."""
