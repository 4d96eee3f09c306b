"""Run a command and write its wall time and peak memory as JSON: the harness's launcher.

    python bench/peak.py RESULT.json COMMAND [ARGS...]

The harness runs it by its path (peak_of), since measured commands run in scratch projects.

Linux counts into a child's peak memory the memory of the process that forked it, so
the benchmark (which holds large test files) does not fork the measured command itself:
this small process does, and reports the command's own os.wait4 figures.

The kernel's figure is the peak of the largest single process. A command that runs
helpers at the same time (`wineq infer` looks its model up in a child process) holds
their sum, so the resident memory of the whole process tree is also sampled every 10 ms
and summed; `peak_kib` is the larger of the two figures. The sum counts pages that the
processes share once in each: it errs on the high side.
"""

import json
import os
import subprocess
import sys
import time

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def tree_rss_kib(pid: int) -> int:
    """Resident memory of `pid` and all its descendants, in KiB (0 for vanished ones)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE_KIB
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    pending.extend(int(child) for child in handle.read().split())
        except (OSError, ValueError):
            continue  # it exited between the listing and the read
    return total


def main(result: str, cmd: list[str]) -> int:
    """Run `cmd`, write its figures to `result`, and return its exit status."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    tree_peak = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        tree_peak = max(tree_peak, tree_rss_kib(proc.pid))
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    with open(result, "w") as handle:
        json.dump(
            {
                "seconds": seconds,
                "peak_kib": max(usage.ru_maxrss, tree_peak),
                "max_process_kib": usage.ru_maxrss,
                "tree_sum_kib": tree_peak,
            },
            handle,
        )
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
