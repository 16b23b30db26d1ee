"""Running a family's pinned ``pip`` commands (packages that must go in with ``--no-deps``) from its CLI verb."""

import subprocess


def run_pip_commands(commands, print_only=False):
    """Print each command and run it (unless ``print_only``); the first failing command's exit status, else 0.

    Example:

    >>> run_pip_commands([["python", "-m", "pip", "install", "--no-deps", "example==1.0"]], print_only=True)
    python -m pip install --no-deps example==1.0
    0
    """
    for command in commands:
        print(" ".join(command))
        returncode = 0 if print_only else subprocess.run(command).returncode
        if returncode:
            return returncode
    return 0
