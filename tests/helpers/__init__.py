"""Helpers shared by the tests: the CLI, free ports, pages and stores built for them.

Fixtures live in ``tests/conftest.py``; everything a test imports comes from here, never
from another test module or from conftest.
"""
