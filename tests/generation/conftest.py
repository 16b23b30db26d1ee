"""Shared by the generation tests: the tiny IDDiffusion configuration, its inputs, the null-condition check."""

import numpy as np

TINY = {"image_size": (16, 16), "width": 16, "depth": 1, "heads": 2, "identity_dim": 8}


def inputs(n=2, seed=0, identity=None, layout=None, background=None):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, 16, 16, 3)).astype("float32"), rng.uniform(0, 999, n).astype("float32"),
            rng.normal(size=(n, 8)).astype("float32") if identity is None else identity,
            np.tile([[0.4, 0.5, 0.5]], (n, 1)).astype("float32") if layout is None else layout,
            np.arange(n, dtype="int32") % 4 if background is None else background]


def assert_each_condition_changes_the_noise(model, base):
    """Replacing identity, layout or background of ``base`` by its null input changes the predicted noise;
    returns the prediction on ``base``."""
    eps = model.predict_on_batch(base)
    for i, null in ((2, np.zeros((1, 8), "float32")), (3, np.zeros((1, 3), "float32")),
                    (4, np.array([4], "int32"))):
        changed = list(base)
        changed[i] = null
        assert not np.allclose(model.predict_on_batch(changed), eps, atol=1e-6), i
    return eps
