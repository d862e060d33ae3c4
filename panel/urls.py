from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.urls import include, path, re_path

from accounts import auth_views as auth_pages
from accounts import views as account_views
from accounts.auth_views import PanelLoginView
from affiliates.views import record_sign_up
from bot import views as bot_views
from notifications import views as notification_views
from panel import notice_views, views, webhook_views
from panel.api.views import ApiV2View
from panel.child_panels import owner_pages as child_panel_owner_pages
from panel.child_panels import pages as child_panel_pages
from panel.child_panels import views as child_panel_views

urlpatterns = [
    # Both spellings answer directly: a redirect turns many clients' POST into a body-less GET.
    # Outside the request's transaction: each action opens its own, `add` none (ApiV2View).
    re_path(r"^api/v2/?$", transaction.non_atomic_requests(ApiV2View.as_view()), name="api_v2"),
    # The operator API sits above panel in the layers: included by name, never imported.
    path("adminapi/v2/", include("operatorapi.urls")),
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("login/", PanelLoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("login/verify/", auth_pages.login_verify, name="login_verify"),
    # The new account's referrer is recorded by the affiliates app, above accounts.
    path("signup/", auth_pages.sign_up, {"after_sign_up": record_sign_up}, name="signup"),
    path(
        "signup/confirm/<str:uidb64>/<str:token>/",
        auth_pages.signup_confirm,
        name="signup_confirm",
    ),
    path("account/2fa/", auth_pages.two_factor_settings, name="two_factor"),
    path("password/reset/", auth_pages.PanelPasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_pages.PanelPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("logout/", auth_pages.PanelLogoutView.as_view(), name="logout"),
    path("account/", account_views.account, name="account"),
    path("account/phone/", account_views.phone_save, name="phone_save"),
    path("account/api-key/", account_views.api_key_generate, name="api_key_generate"),
    path("account/history/", account_views.balance_history, name="balance_history"),
    path("account/api-key/revoke/", account_views.api_key_revoke, name="api_key_revoke"),
    path(
        "account/password/",
        auth_pages.PanelPasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("api/", views.api_docs, name="api_docs"),
    path("api/webhooks/", webhook_views.webhook_add, name="webhook_add"),
    path("api/webhooks/<int:pk>/", webhook_views.webhook_update, name="webhook_update"),
    path("api/webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path("api/webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook_test"),
    path(
        "api/webhooks/deliveries/<int:pk>/resend/",
        webhook_views.webhook_delivery_resend,
        name="webhook_delivery_resend",
    ),
    path(
        "account/notifications/",
        notification_views.preferences_save,
        name="notification_preferences",
    ),
    path("account/telegram/", notification_views.telegram_link_start, name="telegram_link"),
    path(
        "account/telegram/unlink/",
        notification_views.telegram_link_remove,
        name="telegram_unlink",
    ),
    path("telegram/webhook/<str:secret>/", bot_views.webhook, name="telegram_webhook"),
    path("", include("providers.urls")),
    path("", include("orders.urls")),
    path("", include("support.urls")),
    path("", include("payments.urls")),
    path("", include("affiliates.urls")),
    path("terms/", notice_views.terms, name="terms"),
    path(
        "notices/announcement/dismiss/",
        notice_views.announcement_dismiss,
        name="announcement_dismiss",
    ),
    path("health/", views.health, name="health"),
    path("child-panels/", child_panel_pages.child_panel_list, name="child_panel_list"),
    path(
        "child-panels/<int:pk>/credit/",
        child_panel_pages.child_panel_credit,
        name="child_panel_credit",
    ),
    path("child-panels/<int:pk>/pay/", child_panel_pages.child_panel_pay, name="child_panel_pay"),
    path(
        "child-panels/<int:pk>/payments/",
        child_panel_owner_pages.child_panel_payments,
        name="child_panel_payments",
    ),
    path(
        "child-panels/<int:pk>/assign/",
        child_panel_owner_pages.child_panel_assign,
        name="child_panel_assign",
    ),
    path(
        "child-panels/<int:pk>/logo/",
        child_panel_owner_pages.child_panel_logo,
        name="child_panel_logo",
    ),
    path("logo/<str:stamp>", child_panel_owner_pages.logo, name="child_panel_logo_image"),
    path("tls/allowed", child_panel_views.tls_allowed, name="tls_allowed"),
    path("theme.css", child_panel_views.theme_css, name="child_panel_theme"),
    path("health/worker/", views.health_worker, name="health_worker"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    # The admin logs in through the panel's throttled, two-step login.
    path("admin/login/", PanelLoginView.as_view(), name="admin_login"),
    path("admin/", admin.site.urls),
]

handler400 = "panel.error_pages.bad_request"
handler403 = "panel.error_pages.permission_denied"
handler404 = "panel.error_pages.page_not_found"
handler500 = "panel.error_pages.server_error"
