"""The packaged JSON files of hgzoo.dialogue (personas' traits, strategies, attitude states, the P4G scenario)."""

import importlib.resources
import json


def packaged_json(name):
    """The parsed ``hgzoo/dialogue/data/<name>`` shipped with the package."""
    return json.loads(importlib.resources.files("hgzoo.dialogue.data").joinpath(name).read_text("utf-8"))
