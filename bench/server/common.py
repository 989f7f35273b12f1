"""What the benchmark's processes share: file limits, process CPU and memory from /proc."""

import os
import resource


def raise_file_limit() -> None:
    """10,000 sockets need 10,000 descriptors in each process."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat, fields 14 and 15)."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int, field: str = "VmRSS") -> int:
    with open("/proc/%d/status" % pid) as status:
        return int(next(line for line in status if line.startswith(field)).split()[1])
