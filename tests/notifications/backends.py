"""E-mail backends for the tests: one whose SMTP server fails, one that refuses the recipient for good, one that is
slow and records what it sends from any thread."""

import smtplib
import threading
import time

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPException("451 4.3.0 Serveur momentanément indisponible")


class RefusingBackend(BaseEmailBackend):
    """The server quotes the address, as real ones do: it must not reach staff pages or logs unmasked."""

    def send_messages(self, email_messages):
        recipients = {
            address: (550, f"5.1.1 <{address}> Boîte inconnue".encode()) for m in email_messages for address in m.to
        }
        raise smtplib.SMTPRecipientsRefused(recipients)


class SlowRecordingBackend(BaseEmailBackend):
    """Takes a little time per message, so that concurrent relays overlap; records the outbox uuid of each."""

    sent = []
    lock = threading.Lock()
    delay = 0.02

    def send_messages(self, email_messages):
        for message in email_messages:
            time.sleep(self.delay)
            with self.lock:
                self.sent.append(message.extra_headers["X-Sicoval-Email"])
        return len(email_messages)
