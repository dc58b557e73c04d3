"""The SMTP mailer keeps one connection per thread, and replaces one the server has closed."""

import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from sellerflow.cli.devstack import free_port
from sellerflow.outbox import Mailer
from tests.mailbox import Mailbox


def mail(number: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "noreply@sellerflow.local", f"seller{number}@example.com"
    message["Subject"] = f"message {number}"
    message.set_content("hello")
    return message


class Refusing(Mailbox):
    """Refuses recipients at `refused.example`, as a server refuses an unknown mailbox."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 unknown mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def server() -> Iterator[tuple[Refusing, list[Controller]]]:
    """The mailbox and its running server (the last in the list: a test may replace it)."""
    mailbox = Refusing()
    controllers = [Controller(mailbox, hostname="127.0.0.1", port=free_port())]
    controllers[0].start()
    mailbox.url = f"smtp://127.0.0.1:{controllers[0].port}"
    yield mailbox, controllers
    controllers[-1].stop()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every TCP connection smtplib opens."""
    opened: list[Any] = []
    create = socket.create_connection

    def counting(*args: Any, **kwargs: Any) -> socket.socket:
        opened.append(args[0])
        return create(*args, **kwargs)

    monkeypatch.setattr(smtplib.socket, "create_connection", counting)
    return opened


def test_messages_from_one_thread_share_a_connection(
    server: tuple[Refusing, list[Controller]], connections: list[Any]
) -> None:
    mailbox, _ = server
    mailer = Mailer(mailbox.url)
    for number in range(3):
        mailer.send(mail(number))
    assert [m["Subject"] for m in mailbox.messages] == ["message 0", "message 1", "message 2"]
    assert len(connections) == 1


def test_a_connection_the_server_closed_is_replaced_and_the_message_sent(
    server: tuple[Refusing, list[Controller]], connections: list[Any]
) -> None:
    mailbox, controllers = server
    mailer = Mailer(mailbox.url)
    mailer.send(mail(1))
    old = controllers[-1]
    old.stop()  # the server restarts, closing the kept connection
    controllers.append(Controller(mailbox, hostname="127.0.0.1", port=old.port))
    controllers[-1].start()
    mailer.send(mail(2))
    assert [m["Subject"] for m in mailbox.messages] == ["message 1", "message 2"]
    assert len(connections) == 2


def test_a_refused_recipient_does_not_leave_a_broken_connection_behind(
    server: tuple[Refusing, list[Controller]],
) -> None:
    mailbox, _ = server
    mailer = Mailer(mailbox.url)
    mailer.send(mail(1))
    refused = mail(2)
    del refused["To"]
    refused["To"] = "someone@refused.example"
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        mailer.send(refused)
    mailer.send(mail(3))
    assert [m["Subject"] for m in mailbox.messages] == ["message 1", "message 3"]
