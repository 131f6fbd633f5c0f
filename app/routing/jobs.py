"""Scheduled routing work: the dispatcher (every few seconds, its own SKIP LOCKED claim per
subscriber, so several hosts never deliver to one subscriber at once) and the daily purge
of delivered messages past their retention (domain brief §8: kept 14 days)."""
from __future__ import annotations

from datetime import date, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.routing_models import OutboxMessage
from app.db.session import rowcount
from app.domain.time import HONG_KONG
from app.platform.clock import utcnow
from app.platform.jobs import daily, run_job
from app.platform.uow import Database
from app.routing import notifications
from app.routing.dispatcher import Dispatcher, update_backlog_gauge
from app.routing.settings import DispatchSettings



def outbox_purge(session: Session, today: date) -> dict[str, object]:
    """Delete delivered messages older than the retention period (dead letters are kept), and
    lifecycle notifications past the feed's 14 days."""
    cutoff = utcnow() - timedelta(days=Settings.from_env().outbox_retention_days)
    removed = rowcount(session.execute(delete(OutboxMessage).where(
        OutboxMessage.status == "delivered", OutboxMessage.delivered_at < cutoff)))
    return {"purged": removed, "before": cutoff.isoformat(), "day": today.isoformat(),
            "notifications_purged": notifications.purge(session)}


def dispatch_tick(dispatcher: Dispatcher) -> dict[str, object]:
    report = dispatcher.run_once()
    with dispatcher.database.reading() as session:
        update_backlog_gauge(session)
    return report.as_dict()


def schedule_routing(scheduler: BaseScheduler, database: Database) -> Dispatcher:
    """Add the dispatcher and the purge to ``scheduler``; returns the dispatcher."""
    settings = DispatchSettings.from_env()
    dispatcher = Dispatcher(database, settings)
    scheduler.add_job(dispatch_tick, IntervalTrigger(seconds=settings.interval_seconds), args=(dispatcher,),
                      id="outbox-dispatch", coalesce=True, max_instances=1)
    scheduler.add_job(run_job, CronTrigger(hour=3, minute=15, timezone=HONG_KONG),
                      args=(database, "outbox-purge", outbox_purge), kwargs={"period": daily}, id="outbox-purge",
                      coalesce=True,
                      max_instances=1, misfire_grace_time=6 * 3600)
    return dispatcher
