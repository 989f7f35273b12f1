"""setuptools' side of the wheels' build step (only ``setup.py`` files import this).

``build_py`` runs as usual, then writes the bundle's parts into the build
(:mod:`pypush_build.parts`), so that ``pip wheel .`` or ``python -m build`` puts
them in the wheel. Editable installs skip it: they read ``web/`` where it is.
"""

from collections.abc import Callable
from pathlib import Path

from setuptools.command.build_py import build_py


def build_py_writing(write: Callable[[Path], None]) -> type[build_py]:
    """A ``build_py`` command that also calls ``write(build_lib)``."""

    class BuildPy(build_py):
        def run(self) -> None:
            super().run()
            if not self.editable_mode:
                write(Path(self.build_lib))

    return BuildPy


def runtime_setup(runtime: str) -> None:
    """``setup()`` of a runtime wheel (``runtimes/<runtime>/``): pypush-pyodide, pypush-pyscript."""
    import tomllib

    from setuptools import setup

    from pypush_build.parts import PROJECT_ROOT, runtime_version, write_runtime

    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    title = {"pyodide": "Pyodide", "pyscript": "PyScript"}[runtime]
    setup(
        # pypush's own version: pypush[pyodide] names exactly this one.
        version=project["project"]["version"],
        description="%s %s for pypush's bundle (pypush[%s]): the files its npm package ships"
        % (title, runtime_version(runtime), runtime),
        cmdclass={"build_py": build_py_writing(lambda lib: write_runtime(runtime, lib))},
    )
