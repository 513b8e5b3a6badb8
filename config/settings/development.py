"""`make run` on a developer's machine: debug pages, static files served from the source folders."""

from config.settings.base import *  # noqa: F403
from config.settings.base import STATIC_ROOT

STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise serves from the finders in development; it wants the folder
