"""Dual-pixel defocus: an open DP simulator and DDDNet (joint defocus disparity and deblurring).

Example:

>>> import numpy as np
>>> from hgzoo.dualpixel import NYU_SETTINGS, Camera, DDDNet, simulate
>>> camera = Camera(focal_length_mm=4.4, f_number=1.73, focus_distance_m=1.0, pixel_pitch_um=1.4)
>>> image, depth = np.random.rand(1, 64, 64, 3), np.random.uniform(0.5, 3.0, (1, 64, 64))
>>> left, right, radius = simulate(image, depth, camera)
>>> model = DDDNet(width=0.125)
>>> tuple(model.predict([left, right], verbose=0).shape)
(1, 64, 64, 4)
"""

from hgzoo.dualpixel.dddnet import DDDNet, ImagePSNR
from hgzoo.dualpixel.deblurring import DeblurNet, init_from_dmphn
from hgzoo.dualpixel.disparity import DisparityNet
from hgzoo.dualpixel.inference import restore
from hgzoo.dualpixel.losses import DualPixelLoss, disparity_from_radius, radius_from_disparity
from hgzoo.dualpixel.convert import convert_dddnet_checkpoint
from hgzoo.dualpixel.pixel4 import read_pixel4_ground_truth, read_pixel4_scene, read_pixel4_view, register_pixel4_scene
from hgzoo.dualpixel.registration import Registration, estimate_registration
from hgzoo.dualpixel.simulate import NYU_SETTINGS, Camera, SimulationError, render_dual_pixel, simulate

__all__ = ["Camera", "DDDNet", "DeblurNet", "DisparityNet", "DualPixelLoss", "ImagePSNR", "NYU_SETTINGS", "Registration",
           "SimulationError", "convert_dddnet_checkpoint", "disparity_from_radius", "estimate_registration",
           "init_from_dmphn", "radius_from_disparity", "read_pixel4_ground_truth", "read_pixel4_scene",
           "read_pixel4_view", "register_pixel4_scene", "render_dual_pixel", "restore", "simulate"]
