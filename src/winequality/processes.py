"""Whether the process that started a run still lives: standard library only.

A training run records `process_tag()`: the host, the boot it happened in, the process id
and the process's start time. On the same host, `gone(tag)` tells whether that process
has ended: killed, crashed or the machine rebooted (a new boot id), without being fooled
by a later process that reuses the id (another start time). On another host it cannot
tell, and says None.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Optional


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "-"


def _start_time(pid: int) -> Optional[str]:
    """The process's start time in clock ticks since boot (Linux), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return "-"
    # the command name may hold spaces and parentheses: fields start after the last ')'
    return stat.rsplit(")", 1)[1].split()[19]


def process_tag(pid: Optional[int] = None) -> str:
    """`host|boot|pid|start` of this process (or `pid`)."""
    pid = os.getpid() if pid is None else pid
    return "|".join([socket.gethostname(), _boot_id(), str(pid), _start_time(pid) or "-"])


def gone(tag: str) -> Optional[bool]:
    """True when the tagged process has ended, False while it lives, None when this
    machine cannot tell (another host, or a tag it does not understand)."""
    parts = tag.split("|")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    host, boot, pid, started = parts[0], parts[1], int(parts[2]), parts[3]
    if host != socket.gethostname():
        return None
    if boot != "-" and boot != _boot_id():
        return True  # the machine rebooted since
    if Path("/proc").is_dir():
        now = _start_time(pid)
        return now is None or started not in ("-", now)  # ended, or another took the id
    try:  # without /proc: whether a process of that id exists at all
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
