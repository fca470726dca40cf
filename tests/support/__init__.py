"""Helpers the tests and benchmarks share: fakes, synthetic sessions, LSL outlets, child processes.

Imported as ``tests.support.<module>`` (pytest puts the repository on ``sys.path``; the
benchmarks insert it themselves). The modules that run as child processes are started by path
(:data:`SUPPORT` / ``name.py``) so that they work from any working directory.
"""

from pathlib import Path

#: This folder: the child-process scripts are started as ``python SUPPORT/<name>.py``.
SUPPORT = Path(__file__).resolve().parent
