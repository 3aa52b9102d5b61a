"""The staff side: API, dashboard, queue, case actions and sweeps.

`mount_staff(app, db, settings)` adds the `/api/v1` JSON API, the `/staff/` dashboard and its
static files to an app; `bot.staff.sweeps` holds the scheduled sweeps and
`bot.staff.commands` the functions behind `hotline staff add` and `hotline queue`.
"""

from __future__ import annotations

from bot.staff.mount import mount_staff

__all__ = ["mount_staff"]
