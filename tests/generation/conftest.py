"""Shared by the generation tests: the tiny IDDiffusion configuration and its inputs."""

import numpy as np

TINY = {"image_size": (16, 16), "width": 16, "depth": 1, "heads": 2, "identity_dim": 8}


def inputs(n=2, seed=0, identity=None, layout=None, background=None):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, 16, 16, 3)).astype("float32"), rng.uniform(0, 999, n).astype("float32"),
            rng.normal(size=(n, 8)).astype("float32") if identity is None else identity,
            np.tile([[0.4, 0.5, 0.5]], (n, 1)).astype("float32") if layout is None else layout,
            np.arange(n, dtype="int32") % 4 if background is None else background]
