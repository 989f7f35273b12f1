"""pypush-pyodide's wheel: Pyodide's files from web/node_modules (see pypush_build.parts)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if not (ROOT / "pypush_build" / "parts.py").is_file():
    sys.exit("pypush-pyodide is built from the pypush repository: pip wheel runtimes/pyodide")
sys.path.insert(0, str(ROOT))

from pypush_build.wheel import runtime_setup  # noqa: E402

runtime_setup("pyodide")
