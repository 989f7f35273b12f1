"""PyScript's files for pypush's bundle (``files/``), found by :mod:`pypush_build.parts`."""
