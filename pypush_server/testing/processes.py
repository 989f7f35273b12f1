"""The processes under a process, from Linux's /proc: for the test tooling that must end
what a WebDriver left running and for the benchmark, which reads the CPU time of the
browser's renderers."""

import contextlib
import os


def descendants(pid: int) -> list[tuple[int, bytes]]:
    """The processes under ``pid``, each with its command line (NUL-separated)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, "rb") as stat:
                    parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        with contextlib.suppress(OSError):
            with open("/proc/%d/cmdline" % child, "rb") as cmdline:
                found.append((child, cmdline.read()))
        todo += children.get(child, [])
    return found


def main_thread_cpu_ns(pid: int) -> int | None:
    """Nanoseconds the main thread of ``pid`` has run on a CPU (schedstat), or None if gone.

    Unlike a task's wall time, this does not grow while the thread waits for a core
    that another process holds."""
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, pid)) as schedstat:
            return int(schedstat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
