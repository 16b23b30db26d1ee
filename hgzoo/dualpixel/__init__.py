"""Dual-pixel defocus (simulator, DDDNet): under construction in this session."""
