"""An SMS backend that sends through Twilio's Messages API.

Set ``SMS_BACKEND`` to ``"wagtail_preferences.channels.sms_twilio.TwilioBackend"`` and give
the account in ``SMS_TWILIO``. Each message is one ``POST`` to
``{API_URL}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json``, over one connection kept open
for the batch; Twilio's message ``sid`` becomes the provider id.
"""

import base64
import http.client
import json
import logging
from urllib.parse import quote, urlencode, urlsplit

from ..conf import SETTINGS_NAME, get_setting
from ..exceptions import ConfigurationError
from .base import OutgoingMessage, SendResult
from .sms import BaseSMSBackend

logger = logging.getLogger(__name__)

USER_AGENT = "wagtail-preferences"


def twilio_settings() -> dict:
    """``SMS_TWILIO``, with everything sending needs: an account, its token and a sender.

    Raises ``ConfigurationError`` naming what is missing.
    """
    config = get_setting("SMS_TWILIO")
    missing = [key for key in ("ACCOUNT_SID", "AUTH_TOKEN") if not config[key]]
    if not (config["FROM"] or config["MESSAGING_SERVICE_SID"]):
        missing.append("FROM (or MESSAGING_SERVICE_SID)")
    if missing:
        raise ConfigurationError(
            f"{SETTINGS_NAME}['SMS_TWILIO'] needs {' and '.join(missing)} to send SMS through "
            "Twilio."
        )
    return config


def failure_of_answer(status: int, reason: str, body: bytes, retry_after: str | None):
    """A refused message as a result: 429 and 5xx are temporary, other statuses permanent.

    The error gives Twilio's own ``code`` and ``message`` when the body has them.
    """
    try:
        details = json.loads(body)
    except ValueError:
        details = {}
    if not isinstance(details, dict):
        details = {}
    error = f"Twilio answered {status} {reason}"
    if details.get("code"):
        error += f", error {details['code']}"
    if details.get("message"):
        error += f": {details['message']}"
    if status == 429 or status >= 500:
        if retry_after:
            error += f" (Retry-After: {retry_after})"
        return SendResult.temporary_failure(error)
    return SendResult.permanent_failure(error)


class TwilioBackend(BaseSMSBackend):
    """Sends each message with one request to Twilio, all of a batch over one connection."""

    def __init__(self):
        config = twilio_settings()
        url = urlsplit(config["API_URL"])
        connection_class = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        self.connection = connection_class(url.netloc, timeout=config["TIMEOUT"])
        self.path = f"/2010-04-01/Accounts/{quote(config['ACCOUNT_SID'])}/Messages.json"
        credentials = f"{config['ACCOUNT_SID']}:{config['AUTH_TOKEN']}".encode()
        self.headers = {
            "Authorization": f"Basic {base64.b64encode(credentials).decode('ascii')}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if config["MESSAGING_SERVICE_SID"]:
            self.sender = {"MessagingServiceSid": config["MESSAGING_SERVICE_SID"]}
        else:
            self.sender = {"From": config["FROM"]}

    def send_messages(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        try:
            return [self.send_safely(message) for message in messages]
        finally:
            self.connection.close()

    def send_safely(self, message: OutgoingMessage) -> SendResult:
        try:
            return self.send(message)
        except Exception as error:
            self.connection.close()
            logger.error("Could not send an SMS through Twilio: %s", type(error).__name__)
            return SendResult.permanent_failure(f"{type(error).__name__}: {error}")

    def send(self, message: OutgoingMessage) -> SendResult:
        body = urlencode({"To": message.address, **self.sender, "Body": message.text})
        try:
            self.connection.request("POST", self.path, body=body, headers=self.headers)
            with self.connection.getresponse() as response:
                answer = response.read()
                status, reason = response.status, response.reason
                retry_after = response.getheader("Retry-After")
        except (OSError, http.client.HTTPException) as error:
            # The connection is in an unknown state: the next message opens a new one.
            self.connection.close()
            logger.warning("Could not send an SMS through Twilio: %s", type(error).__name__)
            return SendResult.temporary_failure(f"No answer from Twilio: {error!r}")
        if 200 <= status < 300:
            return self.sent(answer)
        result = failure_of_answer(status, reason, answer, retry_after)
        logger.warning("Twilio did not accept an SMS: HTTP %s.", status)
        return result

    @staticmethod
    def sent(answer: bytes) -> SendResult:
        # Accepted means sent, even when the id cannot be read: sending again would repeat it.
        try:
            provider_id = str(json.loads(answer).get("sid") or "")
        except (ValueError, AttributeError):
            provider_id = ""
        if not provider_id:
            logger.warning("Twilio accepted an SMS without giving its sid.")
        return SendResult.sent(provider_id)
