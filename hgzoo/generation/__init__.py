"""Identity-preserving generation (BeyondFacial): under construction in this session."""
