"""The wheel's build step; the project itself is described in pyproject.toml.

``pip wheel .`` (or ``python -m build``) writes the bundle's default-path parts and the
demo into the wheel (:mod:`pypush_build.parts`), made from the pinned runtimes in web/.
"""

import sys
from pathlib import Path

from setuptools import setup

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pypush_build.parts import write_parts
from pypush_build.wheel import build_py_writing

setup(cmdclass={"build_py": build_py_writing(write_parts)})
