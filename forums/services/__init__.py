"""Forum use cases (a package, by use case); ``from forums import services`` keeps working."""

from forums.services.agenda import *  # noqa: F403
from forums.services.agenda import _meeting_people  # noqa: F401
