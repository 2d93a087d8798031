"""Run one variant in a fresh interpreter, time it, and sample the peak memory of its whole process tree.

PySpark starts the driver JVM as a child process and does not wait for it at exit, so the Python process's own RSS
(about 80-150 MB) says nothing about Spark. A sampler thread walks the child's descendants through
``/proc/PID/task/TID/children`` every ``interval`` seconds and keeps each process's ``VmHWM`` (the kernel's own
peak-RSS high-water mark, so a peak between two samples is not missed as long as the process is seen once). After
the Python process exits, the sampler keeps watching the processes it has seen (the JVM) until they are gone, so the
next variant never competes with a lingering JVM.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as handle:
                    kids += [int(k) for k in handle.read().split()]
            except OSError:
                continue
    except OSError:
        pass
    return kids


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for kid in _children(todo.pop()):
            found.append(kid)
            todo.append(kid)
    return found


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as handle:
            return dict(line.split(":", 1) for line in handle if ":" in line)
    except OSError:
        return {}


def _kib(value: str | None) -> int:
    return int(value.split()[0]) if value else 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (fields 14 and 15 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def _alive(pid: int) -> bool:
    status = _status(pid)
    return bool(status) and not status.get("State", "").strip().startswith("Z")


@dataclass
class TreeMemory:
    """Peak RSS (MiB) and CPU time per process of a tree, grouped by kind: the Python process, JVMs, the rest.

    CPU seconds are the last value seen (sampled, so the last ``interval`` of a process may be missed); on a busy
    machine they vary much less than wall time, which makes them the better figure for comparing variants there.
    """

    root: int
    peak_kib: dict[int, int] = field(default_factory=dict)
    name: dict[int, str] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)

    def sample(self, pids: list[int]) -> None:
        for pid in pids:
            status = _status(pid)
            if not status:
                continue
            self.name[pid] = status.get("Name", "?").strip()
            peak = max(_kib(status.get("VmHWM")), _kib(status.get("VmRSS")))
            self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), peak)
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu_seconds(pid))

    def summary(self) -> dict:
        jvms = [p for p, n in self.name.items() if n == "java"]
        others = [p for p in self.name if p != self.root and p not in jvms]
        mib = lambda kib: round(kib / 1024, 1)  # noqa: E731
        return {
            "python_peak_rss_mib": mib(self.peak_kib.get(self.root, 0)),
            "jvm_peak_rss_mib": mib(max((self.peak_kib[p] for p in jvms), default=0)) if jvms else None,
            "jvm_processes": len(jvms),
            "other_peak_rss_mib": mib(sum(self.peak_kib[p] for p in others)) if others else 0.0,
            "cpu_s": round(sum(self.cpu.values()), 2),
            "python_cpu_s": round(self.cpu.get(self.root, 0.0), 2),
            "jvm_cpu_s": round(sum(self.cpu.get(p, 0.0) for p in jvms), 2) if jvms else None,
        }


@dataclass
class ChildResult:
    returncode: int
    wall_s: float
    memory: dict
    linger_s: float
    stdout: str
    stderr: str


def run_child(args: list[str], *, env: dict | None = None, cwd: str | None = None, interval: float = 0.1,
              timeout: float | None = None, linger_timeout: float = 60.0) -> ChildResult:
    """Run ``python args...`` and return its wall time, exit code, output and the peak RSS of its tree."""
    command = [sys.executable, *args]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory = TreeMemory(process.pid)
    seen: set[int] = set()
    done = threading.Event()

    def sampler() -> None:
        while not done.is_set():
            pids = [process.pid, *descendants(process.pid)]
            seen.update(pids)
            memory.sample(pids)
            done.wait(interval)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        stderr += f"\n[bench] killed after {timeout} s"
    wall = time.perf_counter() - start
    done.set()
    thread.join()
    # The JVM outlives the Python process for a moment: watch it to its end (and count its peak).
    linger_start = time.perf_counter()
    leftovers = [p for p in seen if p != process.pid]
    while leftovers and time.perf_counter() - linger_start < linger_timeout:
        memory.sample(leftovers)
        leftovers = [p for p in leftovers if _alive(p)]
        if leftovers:
            time.sleep(0.05)
    return ChildResult(process.returncode, wall, memory.summary(), time.perf_counter() - linger_start, stdout, stderr)


def settle(files: list[str] | None = None) -> int:
    """``sync``, then evict ``files`` (the benchmark's input) from the page cache; returns how many were evicted.

    Evicting the input alone (``posix_fadvise(DONTNEED)``, no root needed) makes every variant read it from disk the
    same way, while the code (venv, Spark jars) stays cached for all of them alike. Dropping the whole page cache
    instead would make each variant's own imports cold and measure the disk more than the work.
    """
    os.sync()
    evicted = 0
    for name in files or []:
        try:
            fd = os.open(name, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            evicted += 1
        finally:
            os.close(fd)
    return evicted
