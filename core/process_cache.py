"""Values remembered for a few seconds in one process, for lookups every request repeats.

Each cache reads its lifetime from a setting (0 turns it off), never remembers None (an unknown
host or key is asked again next time, so a new one answers at once), and is cleared by its owner
when what it remembers changes in this process; other processes see a change once their entry
expires.
"""

import threading
import time
from collections.abc import Callable, Hashable

from django.conf import settings


class ProcessCache:
    def __init__(self, seconds_setting: str):
        self.seconds_setting = seconds_setting
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, object]] = {}

    @property
    def enabled(self) -> bool:
        return getattr(settings, self.seconds_setting) > 0

    def get(self, slot: Hashable, load: Callable[[], object]) -> object:
        """The value remembered for `slot`, or what `load()` gives (remembered unless None)."""
        seconds = getattr(settings, self.seconds_setting)
        if seconds <= 0:
            return load()
        entry = self._entries.get(slot)
        if entry is not None and entry[0] >= time.monotonic():
            return entry[1]
        value = load()
        if value is not None:
            with self._lock:
                self._entries[slot] = (time.monotonic() + seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
