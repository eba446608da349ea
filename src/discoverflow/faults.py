"""A test hook that kills this process at a named point, so that tests of resuming after a
crash kill where they mean to, not after a guessed delay.

``DISCOVERFLOW_KILL_AT="<stage>:<n>"`` (a ``Stage`` of the stage records) sends SIGKILL to the
process right after the n-th bulk write of that stage's records is committed. Unset, it does
nothing.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

KILL_AT = "DISCOVERFLOW_KILL_AT"
_writes: Counter[str] = Counter()


def records_written(stage: str) -> None:
    """Count one committed write of ``stage``'s records; SIGKILL at the named one."""
    wanted = os.environ.get(KILL_AT)
    if not wanted:
        return
    name, _, count = wanted.rpartition(":")
    if name != stage:
        return
    _writes[stage] += 1
    if _writes[stage] == int(count):
        os.kill(os.getpid(), signal.SIGKILL)
