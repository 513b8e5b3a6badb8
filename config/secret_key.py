"""What makes a SECRET_KEY unfit for production: short, guessable, or one published in this repository."""

import math
from collections import Counter

MIN_LENGTH = 50  # Django's `check --deploy` asks for as much (security.W009)
MIN_DISTINCT = 10
MIN_BITS = 128  # Shannon entropy of the characters, times the length

DEVELOPMENT_KEY = "dev-insecure-voltwatch-secret-key-change-me-in-production"
# Parts of keys anyone can read in this repository (the development key, docker/.env.example) or in
# Django's project template: a key containing one is derived from a published value, however long.
PUBLISHED = ("dev-insecure-voltwatch", "change-me", "changeme", "django-insecure", "build-only-secret")


def _shannon_bits(key: str) -> float:
    counts = Counter(key)
    return -sum(n * math.log2(n / len(key)) for n in counts.values())


def _period(key: str) -> int:
    """The length of the shortest block whose repetition spells `key` (its length when none)."""
    return next((p for p in range(1, len(key) // 2 + 1) if key[p:] == key[:-p]), len(key))


def weakness(key: str) -> str | None:
    """Why `key` must not sign production sessions, or None when it will do."""
    lowered = key.lower()
    if any(value in lowered for value in PUBLISHED):
        return "it contains a value published in Voltwatch's repository or Django's"
    if len(key) < MIN_LENGTH:
        return f"it has {len(key)} characters (at least {MIN_LENGTH})"
    if len(set(key)) < MIN_DISTINCT or _period(key) < len(key) // 2:
        return "it repeats itself or a few characters"
    if _shannon_bits(key) < MIN_BITS:
        return f"its characters carry about {_shannon_bits(key):.0f} bits (at least {MIN_BITS})"
    return None
