"""PatchSplit / PatchMerge: order, exact inverse, nesting, errors, harness."""

import numpy as np
import pytest

from hgzoo.layers import PatchMerge, PatchSplit
from hgzoo.testing import run_layer_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too


def test_row_major_order_for_single_image():
    x = np.arange(4 * 6, dtype=np.float32).reshape(1, 4, 6, 1)
    p = np.asarray(PatchSplit(2, 3)(x))
    expected = [x[0, r * 2:(r + 1) * 2, c * 2:(c + 1) * 2] for r in range(2) for c in range(3)]
    np.testing.assert_array_equal(p, np.stack(expected))


def test_patch_major_stacking_for_batches():
    x = np.random.default_rng(0).random((3, 4, 4, 2)).astype(np.float32)
    p = np.asarray(PatchSplit(2, 2)(x))
    np.testing.assert_array_equal(p[1 * 3 + 2], x[2, :2, 2:])  # patch 1 (top-right) of image 2


@pytest.mark.parametrize("rows,cols", [(1, 1), (2, 1), (1, 2), (2, 2), (4, 2)])
def test_merge_inverts_split(rows, cols):
    x = np.random.default_rng(1).random((2, 8, 12, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(PatchMerge(rows, cols)(PatchSplit(rows, cols)(x))), x)


def test_nested_splits_give_dmphn_quadrants():
    x = np.random.default_rng(2).random((1, 8, 8, 1)).astype(np.float32)
    quads = np.asarray(PatchSplit(1, 2)(PatchSplit(2, 1)(x)))
    halves = np.asarray(PatchMerge(1, 2)(quads))
    np.testing.assert_array_equal(halves, np.asarray(PatchSplit(2, 1)(x)))


def test_indivisible_sizes_raise_clearly():
    with pytest.raises(ValueError, match="height 5 is not divisible by 2"):
        PatchSplit(2, 1)(np.zeros((1, 5, 4, 1), np.float32))
    with pytest.raises(ValueError, match="batch 3 is not a multiple of 2"):
        PatchMerge(1, 2)(np.zeros((3, 4, 4, 1), np.float32))
    with pytest.raises(ValueError, match="at least 1x1"):
        PatchSplit(0, 2)


def test_harness():
    x = np.random.default_rng(3).random((2, 8, 6, 3)).astype(np.float32)
    other = np.random.default_rng(4).random((1, 4, 10, 3)).astype(np.float32)
    run_layer_test(PatchSplit, {"rows": 2, "cols": 2}, [x], expected_output_shape=(8, 4, 3, 3),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0, other_input_data=[other])
    run_layer_test(PatchMerge, {"rows": 2, "cols": 1}, [x], expected_output_shape=(1, 16, 6, 3),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0,
                   other_input_data=[np.concatenate([other, other])])
