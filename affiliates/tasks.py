from celery import shared_task


@shared_task(ignore_result=True)
def affiliate_settle_task() -> None:
    from affiliates.services import affiliate_settle

    affiliate_settle()
