import logging
import os
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panel.settings")

app = Celery("panel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The sweeps run every second: Celery's own "received", "succeeded" and "sending due task" lines
# at INFO would bury everything else. A sweep logs itself when it moves something; failures
# still come through (they are warnings and errors).
ROUTINE_LOGGERS = ("celery.app.trace", "celery.worker.strategy", "celery.beat")


@after_setup_logger.connect
def quiet_routine_lines(**_: Any) -> None:
    for name in ROUTINE_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
