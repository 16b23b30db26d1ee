"""A batch of episodes scores each episode as it would alone, for every few-shot model (B > 1)."""

import keras
import numpy as np
import pytest

import hgzoo

TINY = {
    "sosn": {"relation_filters": 8, "relation_hidden": 4},
    "mlso": {"filters": 16, "width": 48, "relation_filters": 8, "relation_hidden": 4, "discriminator_hidden": 8},
    "spatial_matching": {"filters": 8, "embed_dim": 8, "relation_hidden": 8, "discriminator_hidden": 8},
    "sm_cross_transformer": {"filters": 8, "embed_dim": 8, "relation_hidden": 8, "aligner": "cross_transformer",
                             "key_dim": 8},
    "cross_transformer": {"filters": 8, "key_dim": 8},
}


@pytest.mark.parametrize("name", list(TINY))
def test_batched_episodes_score_as_single_ones(name):
    keras.utils.set_random_seed(0)
    arch = "spatial_matching" if name == "sm_cross_transformer" else name
    model = hgzoo.create_model(arch, image_size=(28, 28), channels=1, **TINY[name])
    rng = np.random.default_rng(0)
    batch = {"support_images": rng.random((3, 6, 28, 28, 1), dtype=np.float32),  # 3-way 2-shot, shuffled
             "support_labels": np.stack([rng.permutation([0, 0, 1, 1, 2, 2]) for _ in range(3)]).astype(np.int32),
             "query_images": rng.random((3, 4, 28, 28, 1), dtype=np.float32)}
    together = np.asarray(model.predict_on_batch(batch))
    alone = np.concatenate([np.asarray(model.predict_on_batch({k: v[i:i + 1] for k, v in batch.items()}))
                            for i in range(3)])
    np.testing.assert_allclose(together, alone, atol=1e-5)
