"""Data for hgzoo.dualpixel: RGB-D sources and an on-the-fly simulated dual-pixel tf.data pipeline.

Example:

>>> from hgzoo.dualpixel.data import motorcycle
>>> image, depth = motorcycle()
>>> image.shape, depth.shape
((500, 741, 3), (500, 741))
"""

from hgzoo.dualpixel.data.pipeline import dual_pixel_dataset, random_camera, simulated_pairs
from hgzoo.dualpixel.data.rgbd import motorcycle, rgbd_folder

__all__ = ["dual_pixel_dataset", "motorcycle", "random_camera", "rgbd_folder", "simulated_pairs"]
