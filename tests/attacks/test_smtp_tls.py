"""The mailer trusts no mail server it cannot verify and sends no password in clear text:
`smtps://` checks the server's certificate and name, and `smtp://` with credentials upgrades with
STARTTLS (verified the same way) before it logs in, or refuses to log in at all."""

import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sellerflow.cli.devstack import free_port
from sellerflow.outbox import CleartextLoginRefused, Mailer
from tests.mailbox import Mailbox


class Recording(Mailbox):
    """A mailbox that takes any login and remembers each one, and whether it came over TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.logins: list[tuple[str, bool]] = []

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        over_tls = server.transport.get_extra_info("ssl_object") is not None
        self.logins.append((data.password.decode(), over_tls))
        return AuthResult(success=True)


def certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (an IP address) and its key."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"),
            *("-addext", f"subjectAltName=IP:{name}"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def server_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """The server side of TLS, and the certificate a client must trust to verify it."""
    cert, key = certificate(tmp_path_factory.mktemp("tls"), "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.fixture
def trusted(server_tls: tuple[ssl.SSLContext, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's certificate as the system's trust store (OpenSSL reads SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(server_tls[1]))


def serve(mailbox: Recording, scheme: str, **options: Any) -> Iterator[Recording]:
    port = free_port()
    authenticator = mailbox.authenticate
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, authenticator=authenticator, **options
    )
    controller.start()
    mailbox.url = f"{scheme}://relay%40example.com:s3cr%2Ft@127.0.0.1:{port}"
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def implicit_tls(server_tls: tuple[ssl.SSLContext, Path]) -> Iterator[Recording]:
    # The connection is TLS from its start: aiosmtpd's own check knows only STARTTLS.
    yield from serve(Recording(), "smtps", ssl_context=server_tls[0], auth_require_tls=False)


@pytest.fixture
def starttls(server_tls: tuple[ssl.SSLContext, Path]) -> Iterator[Recording]:
    yield from serve(Recording(), "smtp", tls_context=server_tls[0], require_starttls=True)


@pytest.fixture
def cleartext() -> Iterator[Recording]:
    """A server that offers AUTH without TLS, as a misconfigured or impersonating one does."""
    yield from serve(Recording(), "smtp", auth_require_tls=False)


def mail() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "noreply@sellerflow.local", "seller@example.com"
    message["Subject"] = "hello"
    message.set_content("hello")
    return message


def test_smtps_refuses_a_certificate_it_cannot_verify(implicit_tls: Recording) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        Mailer(implicit_tls.url).send(mail())
    assert implicit_tls.logins == []
    assert implicit_tls.messages == []


@pytest.mark.usefixtures("trusted")
def test_smtps_delivers_to_a_verified_server(implicit_tls: Recording) -> None:
    Mailer(implicit_tls.url).send(mail())
    assert implicit_tls.logins == [("s3cr/t", True)]
    assert len(implicit_tls.messages) == 1


@pytest.mark.usefixtures("trusted")
def test_smtp_with_credentials_logs_in_after_starttls(starttls: Recording) -> None:
    Mailer(starttls.url).send(mail())
    assert starttls.logins == [("s3cr/t", True)]
    assert len(starttls.messages) == 1


def test_starttls_refuses_a_certificate_it_cannot_verify(starttls: Recording) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        Mailer(starttls.url).send(mail())
    assert starttls.logins == []


def test_smtp_with_credentials_never_sends_the_password_in_clear_text(
    cleartext: Recording,
) -> None:
    with pytest.raises(CleartextLoginRefused, match="STARTTLS"):
        Mailer(cleartext.url).send(mail())
    assert cleartext.logins == []
    assert cleartext.messages == []
