"""``hgzoo generation``: under construction."""


def add_actions(actions):
    """No actions yet."""
