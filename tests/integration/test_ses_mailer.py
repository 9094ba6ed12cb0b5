"""SesMailer on moto's SESv2, and with a scripted client for throttling and failures."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters.ses_mailer import SesMailer
from chalicelib.services.ports import MailMessage
from tests.conftest import MAIL_FROM


def message(to="ada@example.com", subject="Confirm your email address for Latchkey") -> MailMessage:
    link = "https://latchkey.test/verify/abc"
    return MailMessage(to=[to], subject=subject, text=f"Open {link}", html=f'<a href="{link}">Confirm</a>',
                       links=[link])


def sent_messages():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    # SESv2 keeps what it sends in the SES (v1) backend of the account and region.
    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages


def error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "SendEmail")


class ScriptedSes:
    """A stand-in SESv2 client: raises the scripted errors in turn, then accepts."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.requests: list[dict] = []

    def send_email(self, **request):
        self.requests.append(request)
        if self.failures:
            raise self.failures.pop(0)
        return {"MessageId": f"msg-{len(self.requests)}"}


# on moto -----------------------------------------------------------------------------------------

@pytest.fixture
def sesv2(aws):
    import boto3

    return boto3.client("sesv2", region_name="us-east-1")


def test_a_sent_mail_reaches_ses_with_its_subject_sender_and_recipient(sesv2):
    mailer = SesMailer(lambda: sesv2, MAIL_FROM)

    message_id = mailer.send(message())

    [sent] = sent_messages()
    assert sent.id == message_id
    assert sent.source == MAIL_FROM
    assert sent.destinations["ToAddresses"] == ["ada@example.com"]
    assert sent.subject == "Confirm your email address for Latchkey"
    assert 'href="https://latchkey.test/verify/abc"' in sent.body


def test_a_sender_ses_does_not_know_is_refused_by_ses(sesv2):
    mailer = SesMailer(lambda: sesv2, "Someone <someone@unverified.example>")

    with pytest.raises(ClientError) as refused:
        mailer.send(message())
    assert refused.value.response["Error"]["Code"] == "MessageRejected"
    assert sent_messages() == []


# request shape and header injection ------------------------------------------------------------------

def test_the_request_is_simple_content_with_text_and_html_and_the_configuration_set():
    ses = ScriptedSes()
    SesMailer(lambda: ses, MAIL_FROM, configuration_set="latchkey-dev").send(message())

    [request] = ses.requests
    assert request["FromEmailAddress"] == MAIL_FROM
    assert request["Destination"] == {"ToAddresses": ["ada@example.com"]}
    assert request["ConfigurationSetName"] == "latchkey-dev"
    simple = request["Content"]["Simple"]
    assert simple["Subject"] == {"Data": "Confirm your email address for Latchkey", "Charset": "UTF-8"}
    assert simple["Body"]["Text"]["Data"].startswith("Open https://latchkey.test/verify/abc")
    assert simple["Body"]["Html"]["Charset"] == "UTF-8"


@pytest.mark.parametrize("bad", ["\r\nBcc: victim@example.com", "\nBcc: victim@example.com", "\x00"])
def test_cr_lf_or_nul_in_the_subject_is_refused_before_anything_is_sent(bad):
    ses = ScriptedSes()
    with pytest.raises(ValueError):
        SesMailer(lambda: ses, MAIL_FROM).send(message(subject="Hello" + bad))
    assert ses.requests == []


@pytest.mark.parametrize("bad", ["ada@example.com\r\nBcc: victim@example.com", "ada@example.com\n", "a\x00@x.com"])
def test_cr_lf_or_nul_in_an_address_is_refused_before_anything_is_sent(bad):
    ses = ScriptedSes()
    with pytest.raises(ValueError):
        SesMailer(lambda: ses, MAIL_FROM).send(message(to=bad))
    with pytest.raises(ValueError):
        SesMailer(lambda: ses, "Latchkey <no-reply@latchkey.example>\r\nBcc: x@example.com").send(message())
    assert ses.requests == []


# retries ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["Throttling", "ThrottlingException", "TooManyRequestsException"])
def test_throttling_is_retried_until_ses_accepts(code):
    ses = ScriptedSes(error(code), error(code))

    message_id = SesMailer(lambda: ses, MAIL_FROM).send(message())

    assert message_id == "msg-3" and len(ses.requests) == 3
    assert ses.requests[0] == ses.requests[2]  # the same mail each time


def test_throttling_that_does_not_stop_gives_up_after_the_last_attempt():
    ses = ScriptedSes(*[error("Throttling")] * 3)

    with pytest.raises(ClientError) as gave_up:
        SesMailer(lambda: ses, MAIL_FROM, attempts=3).send(message())

    assert gave_up.value.response["Error"]["Code"] == "Throttling" and len(ses.requests) == 3


@pytest.mark.parametrize("failure", [error("MessageRejected"), error("AccountSuspendedException"),
                                     ConnectionError("network down")])
def test_other_errors_are_not_retried(failure):
    ses = ScriptedSes(failure)

    with pytest.raises(type(failure)):
        SesMailer(lambda: ses, MAIL_FROM).send(message())

    assert len(ses.requests) == 1
