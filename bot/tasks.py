"""Thin tasks: an update id in, the handler does the rest."""

from celery import shared_task


@shared_task(ignore_result=True)
def bot_update_task(update_pk: int) -> None:
    from bot.handling import bot_update_handle

    bot_update_handle(update_pk=update_pk)


@shared_task(ignore_result=True)
def bot_updates_sweep_task() -> dict[str, int]:
    """Updates a worker never took (the broker lost the task), and old rows to forget."""
    from bot.handling import bot_updates_sweep

    return bot_updates_sweep()
