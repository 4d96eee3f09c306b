"""Whether the process that started a run still lives: standard library only.

A training run records `process_tag()`: the host name, the machine id, the boot it
happened in, its PID namespace, the process id and the process's start time. On the same
machine and namespace, `gone(tag)` tells whether that process has ended (killed, crashed,
or the machine rebooted: a new boot id) without being fooled by a later process reusing
the id (another start time). Where it cannot be sure (another machine or container, a
/proc that hides other users' processes) it says None, and nothing is closed.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Optional

UNKNOWN = "-"


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip() or UNKNOWN
    except OSError:
        return UNKNOWN


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return UNKNOWN


def _start_time(pid: int) -> Optional[str]:
    """The process's start time in clock ticks since boot; None when /proc has no such
    process, UNKNOWN when /proc will not say (hidepid, no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return UNKNOWN
    # the command name may hold spaces and parentheses: fields start after the last ')'
    return stat.rsplit(")", 1)[1].split()[19]


def process_tag(pid: Optional[int] = None) -> str:
    """`host|machine|boot|pidns|pid|start` of this process (or `pid`)."""
    pid = os.getpid() if pid is None else pid
    return "|".join(
        [
            socket.gethostname(),
            _read("/etc/machine-id"),
            _read("/proc/sys/kernel/random/boot_id"),
            _pid_namespace(),
            str(pid),
            _start_time(pid) or UNKNOWN,
        ]
    )


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # somebody else's, alive
    return True


def gone(tag: str) -> Optional[bool]:
    """True when the tagged process has surely ended, False while it lives, None when
    this process cannot tell (another machine, container or PID namespace; a tag it does
    not understand; a /proc that hides the answer)."""
    parts = tag.split("|")
    if len(parts) != 6 or not parts[4].isdigit():
        return None
    host, machine, boot, namespace, pid_text, started = parts
    if host != socket.gethostname() or machine != _read("/etc/machine-id"):
        return None
    if UNKNOWN not in (boot, machine) and boot != _read("/proc/sys/kernel/random/boot_id"):
        return True  # this very machine has restarted since
    if namespace != _pid_namespace() or UNKNOWN in (namespace, started):
        return None  # another container's process ids, or no way to tell reuse
    pid = int(pid_text)
    now = _start_time(pid)
    if now == UNKNOWN:
        return None
    if now is None:
        return not _exists(pid)  # hidden from /proc (hidepid) is not the same as gone
    return now != started  # a later process took the id
