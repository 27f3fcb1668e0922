"""The day the program decides as of: read once, at an entry point, and handed down as a value.

Why one place: what a stack may run and what it costs depend on dates (EKS support ends on a day),
but a check that reads the wall clock by itself gives different answers on different days for the
same commit, and a test of it can only wait. So every decision takes `today: date`, and only the
entry points (the program's settings loader, the policy pack, `make cost`, `make guardrails`) call
`today()` to get it.

`CELESTIALS_TODAY=YYYY-MM-DD` overrides the system date, so a preview, the pack, `make cost` or CI
can run as of a given day (e.g. to see what next quarter's previews will warn about).
Standard library only: the policy pack imports it.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Callable, Mapping

TODAY_ENV = "CELESTIALS_TODAY"


def as_of(environ: Mapping[str, str], clock: Callable[[], date]) -> date:
    """`TODAY_ENV` from `environ` when set (ISO date), else `clock()`."""
    raw = environ.get(TODAY_ENV, "").strip()
    if not raw:
        return clock()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{TODAY_ENV}={raw!r}: a date as YYYY-MM-DD (e.g. 2027-06-01), or unset for "
                         "the system date") from None


def today() -> date:
    """The day the entry point runs as of: `CELESTIALS_TODAY`, else the system date."""
    return as_of(os.environ, date.today)
