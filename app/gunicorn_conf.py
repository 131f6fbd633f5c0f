"""gunicorn settings used by ``csw serve``: the scheduler runs in the master process, so
there is one per host however many workers serve requests (none with CSW_SCHEDULER=0: the
scale-out set-up runs ``csw scheduler`` on its own)."""
from __future__ import annotations

from typing import Any

_scheduler: Any = None

# gunicorn 24+ opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl) by default:
# a second ``csw serve`` on the host (scale-out, tests) would take it from the first. CSW does not
# use it.
control_socket_disable = True


def when_ready(server: Any) -> None:
    global _scheduler
    # gunicorn reads this config before the app exists: load the app only once the master is ready
    from app.bootstrap import install_handlers  # noqa: PLC0415
    from app.config import Settings  # noqa: PLC0415
    from app.jobs import start_scheduler  # noqa: PLC0415
    from app.platform.commands import database  # noqa: PLC0415

    settings = Settings.from_env()
    if not settings.run_scheduler:
        server.log.info("scheduler off (CSW_SCHEDULER=0)")
        return
    install_handlers(settings)  # the jobs' changes (alerts, escalations) reach every capability
    _scheduler = start_scheduler(database(settings), settings)
    server.log.info("scheduler started: %s", ", ".join(job.id for job in _scheduler.get_jobs()))


def on_exit(server: Any) -> None:
    if _scheduler is not None:
        _scheduler.shutdown(wait=False)
