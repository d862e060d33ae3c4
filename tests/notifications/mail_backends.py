"""Email backends that fail the ways a mail server does, for the sender's tests."""

import os
import smtplib
import time
from collections.abc import Sequence
from pathlib import Path

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: nothing after it runs."""


class RefusesConnections(BaseEmailBackend):
    def open(self) -> bool:
        raise ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, email_messages: Sequence[object]) -> int:
        raise AssertionError("never reached")


class DiesOnSecondMessage(LocmemBackend):
    """Delivers the first message, then the worker dies handing over the second."""

    def send_messages(self, email_messages: Sequence[object]) -> int:
        if len(getattr(mail, "outbox", [])) >= 1:
            raise WorkerKilled()
        return super().send_messages(email_messages)


class DropsAfterData(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[object]) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusesRecipient(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[object]) -> int:
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")})


class HangsWhileSending(BaseEmailBackend):
    """For the kill test in a real process: says it is sending, then hangs until killed."""

    def send_messages(self, email_messages: Sequence[object]) -> int:
        Path(os.environ["PANEL_TEST_SENDING_MARKER"]).write_text("sending")
        time.sleep(600)
        return 0
