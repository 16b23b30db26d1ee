"""tf.data pipelines of (blurry, sharp) pairs for training deblurring models.

Three sources:

- :func:`gopro_pairs`: the GoPro layout ``<root>/**/GOPRxxxx_xx_xx/{blur,sharp}/*.png``;
- :func:`folder_pairs`: any two folders of images with matching file names;
- :func:`synthetic_pairs`: real sharp photos blurred by random camera shake.

:func:`training_dataset` turns file pairs into random crops with flips and
90° rotations (the same transform for both images), batched for ``fit``.

Example:

>>> from hgzoo.deblur.data import deblur_pairs
>>> pairs = deblur_pairs.gopro_pairs("GOPRO_Large/train")  # doctest: +SKIP
>>> ds = deblur_pairs.training_dataset(pairs, crop=256, batch_size=4)  # doctest: +SKIP
"""

import glob
import os

import numpy as np

from hgzoo.data.images import read_image, to_float_rgb
from hgzoo.deblur.data.camera_shake import make_pair

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def _images_in(folder):
    return sorted(p for p in glob.glob(os.path.join(folder, "*")) if p.lower().endswith(IMAGE_EXTENSIONS))


def gopro_pairs(root):
    """(blur, sharp) file pairs under ``root`` in the GoPro layout."""
    pairs = []
    for blur_dir in sorted(glob.glob(os.path.join(root, "**", "blur"), recursive=True)):
        sharp_dir = os.path.join(os.path.dirname(blur_dir), "sharp")
        if os.path.isdir(sharp_dir):
            pairs.extend(folder_pairs(blur_dir, sharp_dir))
    if not pairs:
        raise FileNotFoundError(f"{root}: no GOPRxxxx/blur + GOPRxxxx/sharp folders with images found")
    return pairs


def folder_pairs(blur_dir, sharp_dir):
    """File pairs matched by name between two folders; a missing partner is an error."""
    blurs = _images_in(blur_dir)
    if not blurs:
        raise FileNotFoundError(f"{blur_dir}: no images found")
    pairs = []
    for path in blurs:
        partner = os.path.join(sharp_dir, os.path.basename(path))
        if not os.path.isfile(partner):
            raise FileNotFoundError(f"{path} has no sharp partner {partner}")
        pairs.append((path, partner))
    return pairs


def training_dataset(pairs, crop=256, batch_size=4, augment=True, shuffle=True, seed=None, repeat=True):
    """Random ``crop``×``crop`` windows of file pairs, batched: yields (blurry, sharp) in [0, 1]."""
    import tensorflow as tf

    if not pairs:
        raise ValueError("training_dataset needs at least one (blurry, sharp) pair")
    blur_paths = tf.constant([b for b, _ in pairs])
    sharp_paths = tf.constant([s for _, s in pairs])
    ds = tf.data.Dataset.from_tensor_slices((blur_paths, sharp_paths))
    if shuffle:
        ds = ds.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()

    def load(bp, sp):
        b = tf.image.convert_image_dtype(tf.io.decode_image(tf.io.read_file(bp), 3, expand_animations=False), tf.float32)
        s = tf.image.convert_image_dtype(tf.io.decode_image(tf.io.read_file(sp), 3, expand_animations=False), tf.float32)
        both = tf.concat([b, s], axis=-1)  # one window and one transform for both images
        both = tf.image.random_crop(both, (crop, crop, 6), seed=seed)
        if augment:
            both = tf.image.random_flip_left_right(both, seed=seed)
            both = tf.image.random_flip_up_down(both, seed=seed)
            both = tf.image.rot90(both, tf.random.uniform((), 0, 4, tf.int32, seed=seed))
        return both[..., :3], both[..., 3:]

    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def load_photos(paths_or_arrays, min_side=0):
    """Float RGB photos from files or arrays; a photo smaller than ``min_side`` raises."""
    photos = []
    for item in paths_or_arrays:
        name = item if isinstance(item, str) else "array"
        x, _ = to_float_rgb(read_image(item) if isinstance(item, str) else item, name)
        if min(x.shape[:2]) < min_side:
            raise ValueError(f"{name}: {x.shape[0]}x{x.shape[1]} is smaller than {min_side} pixels")
        photos.append(x)
    if not photos:
        raise ValueError("no sharp photos given")
    return photos


def synthetic_pairs(photos, crop=256, batch_size=4, seed=0, kernel_size=(9, 31), noise=(0.0, 0.01)):
    """An endless batched dataset of camera-shake (blurry, sharp) crops of real photos.

    Args:
        photos: float (H, W, 3) arrays in [0, 1] (see :func:`load_photos`),
            each larger than ``crop`` plus the largest kernel.
        seed: makes the stream reproducible.
    """
    import tensorflow as tf

    def generate():
        rng = np.random.default_rng(seed)
        while True:
            photo = photos[int(rng.integers(len(photos)))]
            blurry, sharp = make_pair(rng, photo, crop, kernel_size, noise)
            k = int(rng.integers(4))
            flip = bool(rng.integers(2))
            blurry, sharp = np.rot90(blurry, k), np.rot90(sharp, k)
            if flip:
                blurry, sharp = blurry[:, ::-1], sharp[:, ::-1]
            yield np.ascontiguousarray(blurry), np.ascontiguousarray(sharp)

    spec = tf.TensorSpec((crop, crop, 3), tf.float32)
    ds = tf.data.Dataset.from_generator(generate, output_signature=(spec, spec))
    return ds.batch(batch_size).prefetch(2)
