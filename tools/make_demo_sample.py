"""Make the packaged demo pair: scikit-image's CC0 'chelsea' photo with synthetic camera shake.

    python tools/make_demo_sample.py   # writes hgzoo/samples/chelsea_{sharp,shake}.png
"""

import numpy as np
import skimage.data

from hgzoo.deblur.data.camera_shake import blur_image, random_kernel
from hgzoo.data.images import quantise, write_image

rng = np.random.default_rng(2019)
sharp = skimage.data.chelsea().astype(np.float32) / 255  # 300x451, CC0 (Stefan van der Walt)
blurry = blur_image(sharp, random_kernel(rng, size=17, min_extent=0.8, max_extent=0.9))
blurry = blurry + rng.normal(0, 0.003, blurry.shape)
write_image("hgzoo/samples/chelsea_sharp.png", quantise(sharp))
write_image("hgzoo/samples/chelsea_shake.png", quantise(blurry))
