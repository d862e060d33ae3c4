from celery import shared_task


@shared_task(ignore_result=True)
def idempotency_records_purge_task() -> int:
    from operatorapi.services import idempotency_records_purge

    return idempotency_records_purge()
