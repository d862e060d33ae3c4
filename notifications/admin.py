from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.permissions import ReadOnlyAdmin
from notifications.models import Notification
from notifications.services import notification_retry


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox as it stands. Rows change only through the sender, and through the one
    decision a person makes: that a row whose outcome is unknown never arrived."""

    list_display = ("id", "created_at", "channel", "kind", "user", "status", "attempts", "sent_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("=id", "key", "user__username")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["send_again"]
    show_full_result_count = False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_notification")

    @admin.action(
        description="Outcome unknown or failed → did not arrive: send again",
        permissions=["resend"],
    )
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        done = sum(
            notification_retry(notification_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        skipped = queryset.count() - done
        self.message_user(
            request,
            f"{done} queued again."
            + (
                f" {skipped} skipped: only unknown or failed rows can be sent again."
                if skipped
                else ""
            ),
            messages.SUCCESS if done else messages.WARNING,
        )
