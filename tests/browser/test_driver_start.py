"""Starting a WebDriver session never hangs the run (selenium_page.start_driver).

Once, on a busy machine, WebKitWebDriver never answered its new-session request and
Selenium, which waits without a limit there, held the test for its whole timeout. Here
the service is a real process that never answers, as that driver did.
"""

import subprocess
import time

import pytest

from tests.browser.selenium_page import start_driver


class SilentService:
    """A driver's service whose process runs and never answers."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(["sleep", "600"])


class Services(list):
    """start_driver's ``new_service``: a new SilentService at each call, all kept here."""

    def __call__(self) -> SilentService:
        self.append(SilentService())
        return self[-1]


def test_a_session_start_that_hangs_is_ended_and_tried_again():
    services = Services()

    def make(service: SilentService) -> str:
        if len(services) == 1:  # the first waits for an answer that never comes
            service.process.wait()
            raise ConnectionResetError("the driver went away")
        return "a session"

    started = time.monotonic()
    assert start_driver(services, make, timeout_s=1) == "a session"
    assert time.monotonic() - started < 10
    assert services[0].process.poll() is not None  # the hung one was ended
    services[1].process.kill()


def test_one_that_hangs_every_time_fails_clearly_and_leaves_nothing_running():
    services = Services()

    def make(service: SilentService) -> str:
        service.process.wait()
        raise ConnectionResetError("the driver went away")

    with pytest.raises(RuntimeError, match=r"did not start within 0\.5 s, 2 times"):
        start_driver(services, make, timeout_s=0.5)
    assert len(services) == 2 and all(s.process.poll() is not None for s in services)


def test_an_error_while_starting_is_the_callers():
    def make(service: SilentService) -> str:
        service.process.kill()
        raise ValueError("no such binary")

    with pytest.raises(ValueError, match="no such binary"):
        start_driver(SilentService, make, timeout_s=5)
