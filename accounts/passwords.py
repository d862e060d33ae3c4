"""Django's password validators, saying why in the panel's own words (AUTH_PASSWORD_VALIDATORS).

The checks are Django's; only the messages and help texts change. Django's Vietnamese for them
is stiff ("Nó phải chứa ít nhất 8 ký tự", "không được là mật khẩu được dùng phổ biến") and its
similarity message names a model field, so the panel's catalog carries its own sentences
(docs/translating.md)."""

from django.contrib.auth import password_validation
from django.utils.translation import gettext, ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return ngettext(
            "The password is too short: use at least %(min_length)d character.",
            "The password is too short: use at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return ngettext(
            "At least %(min_length)d character.",
            "At least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    # One sentence for every attribute: the panel's users have only a username and an email.
    def get_error_message(self) -> str:
        return gettext("The password is too much like your username or email.")

    def get_help_text(self) -> str:
        return gettext("Not like your username or email.")


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    def get_error_message(self) -> str:
        return gettext("This password is too common and easy to guess: choose another one.")

    def get_help_text(self) -> str:
        return gettext("Not a commonly used password.")


class NumericPasswordValidator(password_validation.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return gettext("The password cannot be digits only: add some letters.")

    def get_help_text(self) -> str:
        return gettext("Not digits only.")
