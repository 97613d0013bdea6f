"""Whether a call releases the GIL: how long a busy main-thread loop stalls
while another thread runs it (shared by the sizing and codec tests)."""

from __future__ import annotations

import threading
import time
from typing import Callable


def largest_stall_during(work: Callable[[], object]) -> tuple[float, float]:
    """(longest pause of a busy main-thread loop, elapsed) while a thread runs ``work``."""
    done = threading.Event()

    def worker() -> None:
        work()
        done.set()

    t = threading.Thread(target=worker)
    largest_gap = 0.0
    last = began = time.perf_counter()
    t.start()
    while not done.is_set():
        now = time.perf_counter()
        largest_gap = max(largest_gap, now - last)
        last = now
    elapsed = time.perf_counter() - began
    t.join()
    return largest_gap, elapsed
