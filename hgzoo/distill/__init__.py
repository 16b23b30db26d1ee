"""Dataset distillation (DM, IID): under construction in this session."""
