"""Helpers shared by test folders (imported as ``support.<module>``; ``tests/`` is on the path
because the root ``conftest.py`` lives there)."""
