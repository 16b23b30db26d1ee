"""Few-shot action recognition on clips: ARN, clip episodes, video reading and real-image motion clips.

Example:

>>> import numpy as np, hgzoo
>>> from hgzoo.action import ClipEpisodeSampler, motion_clip_classes
>>> from hgzoo.fewshot import evaluate_episodes
>>> pool = motion_clip_classes(np.random.randint(0, 255, (20, 28, 28), np.uint8), ["right", "up", "zoom_in"],
...                            clips_per_class=4, frames=4, size=16)
>>> model = hgzoo.action.ARN(frames=4, image_size=(16, 16), channels=1, filters=16, relation_filters=16)
>>> result = evaluate_episodes(model, [ClipEpisodeSampler(pool, 3, 1, 1).episode(0)], verbose=0)
>>> result["episodes"]
1
"""

from hgzoo.action.arn import ARN
from hgzoo.action.data.motion import MOTIONS, motion_clip_classes
from hgzoo.action.episodes import ClipClasses, ClipEpisodeSampler, check_clip_episode
from hgzoo.action.video import InvalidVideoError, read_clip, read_clip_folder, sample_indices

__all__ = [
           "ARN",
           "MOTIONS",
           "ClipClasses",
           "ClipEpisodeSampler",
           "InvalidVideoError",
           "check_clip_episode",
           "motion_clip_classes",
           "read_clip",
           "read_clip_folder",
           "sample_indices",
]
