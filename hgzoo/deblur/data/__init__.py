"""Deblurring data: GoPro and folder pairs, synthetic camera shake, event cameras, GoPro TFDS builders."""
