"""Run a command and write its wall time and peak memory as JSON: the harness's launcher.

    python bench/peak.py RESULT.json COMMAND [ARGS...]

Linux counts into a child's peak memory the memory of the process that forked it, so
the benchmark (which holds large test files) does not fork the measured command itself:
this small process does, and reports the command's own os.wait4 figures.
"""

import json
import os
import subprocess
import sys
import time

started = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as handle:
    json.dump({"seconds": seconds, "peak_kib": usage.ru_maxrss}, handle)
sys.exit(os.waitstatus_to_exitcode(status))
