"""Persuasion-dialogue simulation (MADS): under construction in this session."""
