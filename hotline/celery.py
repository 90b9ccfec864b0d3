"""The one Celery app, bound to Flask: each task runs inside an application context."""
from __future__ import annotations

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        task_ignore_result=True,
        task_acks_late=True,  # a task that dies mid-way is delivered again; tasks are idempotent
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_timeout=5,
        timezone=app.config["HOTLINE_TIMEZONE"],
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        # run by exactly one `hotline worker -B` (or `celery beat`) per installation
        beat_schedule={
            "purge-recordings": {"task": "telephony.purge_recordings", "schedule": crontab(hour=3, minute=17)},
            # retries, and anything a wake-up after commit missed (the broker was down)
            "deliver-messages": {"task": "messaging.deliver_due", "schedule": 30.0},
            # reminders, urges and escalations owed since the last pass (holds a lock: never two at once)
            "escalation-sweep": {"task": "escalation.sweep", "schedule": 60.0},
            # return visits by SMS unanswered in time go back to the phone-visit list
            "expire-sms-surveys": {"task": "sms.expire_surveys", "schedule": 60.0},
            # bulletins (通报) of the week and month just ended, in the centre's time zone; hotspots every hour
            "weekly-bulletin": {"task": "reports.weekly_bulletin", "schedule": crontab(hour=6, minute=0, day_of_week=1)},
            "monthly-bulletin": {"task": "reports.monthly_bulletin", "schedule": crontab(hour=6, minute=0, day_of_month=1)},
            "hotspot-alerts": {"task": "reports.hotspot_alerts", "schedule": crontab(minute=20)},
            # knowledge articles whose validity ends soon (or ended) told to their departments' admins
            "knowledge-expiry": {"task": "knowledge.notify_expiring", "schedule": crontab(hour=7, minute=5)},
            # how many open orders hold each word: similar orders ask for an order's rarest words
            "count-words": {"task": "similar.count_words", "schedule": 600.0},   # similar.queries.COUNTS_SECONDS
            # the department suggestion learns the day's handled orders
            "train-suggestion": {"task": "similar.train_suggestion", "schedule": crontab(hour=2, minute=40)},
            # stored files no order or article names any more (and uploads a crash abandoned)
            "prune-files": {"task": "maintenance.prune_files", "schedule": crontab(hour=3, minute=47)},
        },
    )
    celery_app.set_default()
    import hotline.escalation.tasks  # noqa: F401  (registers the tasks with this app)
    import hotline.knowledge.tasks  # noqa: F401
    import hotline.maintenance  # noqa: F401
    import hotline.messaging.tasks  # noqa: F401
    import hotline.reports.tasks  # noqa: F401
    import hotline.similar.tasks  # noqa: F401
    import hotline.sms.tasks  # noqa: F401
    import hotline.telephony.tasks  # noqa: F401
    app.extensions["celery"] = celery_app
    return celery_app
