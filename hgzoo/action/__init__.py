"""Few-shot action recognition on clips (ARN): under construction in this session."""
