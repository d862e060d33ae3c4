"""Beat sends the heartbeat; whichever worker consumes it records the time (`/health/worker/`)."""

from celery import Task, shared_task


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat_task(self: Task) -> None:
    from panel.health import heartbeat_record

    heartbeat_record(worker=str(self.request.hostname or ""))
