"""``hgzoo dialogue``: under construction."""


def add_actions(actions):
    """No actions yet."""
