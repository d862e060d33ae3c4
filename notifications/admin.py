from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.permissions import ReadOnlyAdmin
from notifications.models import Notification, TelegramBot, TelegramLink
from notifications.services import notification_retry, telegram_webhook_register
from notifications.telegram import TelegramError


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox as it stands. Rows change only through the sender, and through the one
    decision a person makes: that a row whose outcome is unknown never arrived."""

    list_display = (
        "id",
        "created_at",
        "channel",
        "kind",
        "user",
        "status",
        "sent_via",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "channel", "kind")
    search_fields = ("=id", "key", "user__username")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["send_again"]
    show_full_result_count = False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_notification")

    @admin.action(
        description=_("Outcome unknown or failed → did not arrive: send again"),
        permissions=["resend"],
    )
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        done = sum(
            notification_retry(notification_id=pk) for pk in queryset.values_list("pk", flat=True)
        )
        skipped = queryset.count() - done
        self.message_user(
            request,
            gettext("%(done)d queued again.") % {"done": done}
            + (
                " "
                + gettext("%(skipped)d skipped: only unknown or failed rows can be sent again.")
                % {"skipped": skipped}
                if skipped
                else ""
            ),
            messages.SUCCESS if done else messages.WARNING,
        )


class TelegramBotForm(forms.ModelForm):
    """The token is write-only, like the gateways' credentials: blank keeps the stored one."""

    new_token = forms.CharField(
        label=_("Bot token"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("From @BotFather. Leave empty to keep the stored token."),
    )
    site_url = forms.URLField(
        label=_("panel address"),
        required=False,
        assume_scheme="https",
        help_text=TelegramBot._meta.get_field("site_url").help_text,
    )

    class Meta:
        model = TelegramBot
        fields = ("new_token", "site_url", "is_enabled")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("is_enabled") and not (data.get("new_token") or self.instance.token_encrypted):
            raise forms.ValidationError(_("Give the bot token before enabling the bot."))
        return data

    def save(self, commit: bool = True) -> TelegramBot:
        bot = super().save(commit=False)
        if token := self.cleaned_data.get("new_token", "").strip():
            bot.token = token
        if commit:
            bot.save()
        return bot


@admin.register(TelegramBot)
class TelegramBotAdmin(admin.ModelAdmin):
    form = TelegramBotForm
    list_display = ("__str__", "is_enabled", "site_url", "webhook_set_at")
    readonly_fields = ("username", "token_state", "webhook_set_at")
    actions = ["register_webhook"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not TelegramBot.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("Token"))
    def token_state(self, obj: TelegramBot | None = None) -> str:
        return gettext("Set") if obj and obj.token_encrypted else gettext("Not set")

    @admin.action(description=_("Register the webhook with Telegram"), permissions=["change"])
    def register_webhook(self, request: HttpRequest, queryset: QuerySet[TelegramBot]) -> None:
        for bot in queryset:
            if not bot.token_encrypted or not bot.site_url:
                self.message_user(
                    request, gettext("Set the token and the panel address first."), messages.ERROR
                )
                continue
            try:
                telegram_webhook_register(bot=bot)
            except TelegramError as exc:
                self.message_user(
                    request,
                    gettext("Telegram refused: %(error)s") % {"error": exc.message},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    gettext("Webhook registered for @%(name)s.") % {"name": bot.username},
                    messages.SUCCESS,
                )


@admin.register(TelegramLink)
class TelegramLinkAdmin(ReadOnlyAdmin):
    """Which customer chats are linked; customers link and unlink themselves."""

    list_display = ("user", "chat_id", "telegram_name", "linked_at")
    search_fields = ("user__username", "=chat_id")
    list_select_related = ("user",)
    readonly_fields = ("user", "chat_id", "telegram_name", "linked_at")
    exclude = ("code", "code_expires_at")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Unlinking a customer's chat (a lost phone) is a change, allowed to those who may.
        return request.user.has_perm("notifications.delete_telegramlink")
