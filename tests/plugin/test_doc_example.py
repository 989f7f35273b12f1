"""The plugin's documented example (docs/testing.md), pasted into a new folder, passes."""

import subprocess
import sys

from tests.doc_examples import example


def test_the_documented_example_passes_in_a_new_folder(tmp_path):
    code = example("docs/testing.md", "A complete example")
    (tmp_path / "test_news.py").write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
