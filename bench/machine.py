"""What the figures were measured on: without it a results table cannot be compared."""

import json
import os
import platform
import time
from pathlib import Path

from pypush_build.bundle import MICROPYTHON_DIST, PYODIDE_DIST


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _package_version(folder: Path) -> str:
    try:
        return json.loads((folder / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


def load_average() -> list[float]:
    """1, 5 and 15 minute load: other work on the machine shows up as spread in every figure."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def describe(
    browser_version: str, executable: str | None, load_at_start: list[float]
) -> dict[str, object]:
    """Platform, CPU model and cores, Chromium, the interpreters' versions, load, and when."""
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "chromium": browser_version,
        "chromium_executable": executable,
        "python": platform.python_version(),
        "pyodide": _package_version(PYODIDE_DIST),
        "micropython": _package_version(MICROPYTHON_DIST),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_average_start": load_at_start,
        "load_average_end": load_average(),
    }
