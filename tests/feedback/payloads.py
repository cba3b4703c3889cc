"""Webhook posts as each provider sends them, after the examples in the providers' and
anymail's documentation, naming our delivery in the message's metadata."""

import base64
import datetime
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field

WEBHOOK_SECRET = "webhook-user:webhook-password"
MAILGUN_KEY = "mailgun-test-signing-key"
AUTHORIZATION = "Basic " + base64.b64encode(WEBHOOK_SECRET.encode()).decode()
PROVIDERS = ("amazon_ses", "postmark", "sendgrid", "mailgun")
DEFAULT_AT = datetime.datetime(2026, 11, 5, 16, 33, 54, tzinfo=datetime.UTC)


@dataclass
class Post:
    url: str
    body: str
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)

    def send(self, client):
        return client.generic(
            "POST",
            self.url,
            self.body,
            content_type=self.content_type,
            HTTP_AUTHORIZATION=AUTHORIZATION,
            **self.headers,
        )


def event(provider: str, kind: str, email: str, delivery_id=None, **options) -> Post:
    """A post of ``provider`` reporting one ``kind`` of event (``delivered``,
    ``hard_bounce``, ``soft_bounce``, ``complaint``, ``unsubscribe``, ``open``, ``click``)."""
    options.setdefault("event_id", uuid.uuid4().hex)
    options.setdefault("at", DEFAULT_AT)
    return BUILDERS[provider](kind, email, delivery_id, **options)


def _metadata(delivery_id) -> dict:
    return {} if delivery_id is None else {"delivery_id": str(delivery_id)}


def amazon_ses(kind, email, delivery_id, *, event_id, at, url="", user_agent="") -> Post:
    mail = {
        "timestamp": "2026-11-05T16:30:00.000Z",
        "source": "hello@example.com",
        "messageId": "0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000",
        "destination": [email],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": "hello@example.com"},
            {"name": "To", "value": email},
            {"name": "X-Metadata", "value": json.dumps(_metadata(delivery_id))},
        ],
    }
    ses = {
        "delivered": {
            "notificationType": "Delivery",
            "delivery": {
                "timestamp": "2026-11-05T16:33:54.237Z",
                "recipients": [email],
                "processingTimeMillis": 546,
                "reportingMTA": "a8-70.smtp-out.amazonses.com",
                "smtpResponse": "250 ok:  Message 64111812 accepted",
                "remoteMtaIp": "127.0.2.0",
            },
        },
        "hard_bounce": {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {
                        "emailAddress": email,
                        "status": "5.1.1",
                        "action": "failed",
                        "diagnosticCode": f"smtp; 550 5.1.1 <{email}>... User unknown",
                    }
                ],
                "timestamp": "2026-11-05T16:33:54.675Z",
                "feedbackId": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
                "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
            },
        },
        "soft_bounce": {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Transient",
                "bounceSubType": "MailboxFull",
                "bouncedRecipients": [
                    {"emailAddress": email, "diagnosticCode": "smtp; 452 4.2.2 Mailbox full"}
                ],
                "timestamp": "2026-11-05T16:33:54.675Z",
            },
        },
        "complaint": {
            "notificationType": "Complaint",
            "complaint": {
                "userAgent": "AnyCompany Feedback Loop (V0.01)",
                "complainedRecipients": [{"emailAddress": email}],
                "complaintFeedbackType": "abuse",
                "arrivalDate": "2026-11-05T16:33:54.675Z",
                "timestamp": "2026-11-05T16:33:54.675Z",
                "feedbackId": "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",
            },
        },
        "open": {
            "eventType": "Open",
            "open": {
                "ipAddress": "192.0.2.1",
                "timestamp": "2026-11-05T16:33:54.652Z",
                "userAgent": user_agent
                or "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X)",
            },
        },
        "click": {
            "eventType": "Click",
            "click": {
                "ipAddress": "192.0.2.1",
                "link": url or "https://example.com/o",
                "timestamp": "2026-11-05T16:33:54.570Z",
                "userAgent": user_agent or "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            },
        },
    }[kind]
    ses["mail"] = mail
    sns = {
        "Type": "Notification",
        "MessageId": event_id,
        "TopicArn": "arn:aws:sns:us-east-1:1234567890:SES_Events",
        "Subject": "Amazon SES Email Event Notification",
        "Message": json.dumps(ses) + "\n",
        "Timestamp": at.isoformat().replace("+00:00", "Z"),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE-SIGNATURE==",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    }
    return Post(
        "/anymail/amazon_ses/tracking/",
        json.dumps(sns),
        content_type="text/plain; charset=UTF-8",
        headers={
            "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
            "HTTP_X_AMZ_SNS_MESSAGE_ID": event_id,
        },
    )


def postmark(kind, email, delivery_id, *, event_id, at, url="", user_agent="") -> Post:
    when = at.isoformat().replace("+00:00", "Z")
    common = {
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ServerID": 23,
        "MessageStream": "outbound",
        "Tag": "Test",
        "Metadata": _metadata(delivery_id),
    }
    numeric_id = int(hashlib.sha256(event_id.encode()).hexdigest()[:12], 16)
    bounce = {
        "RecordType": "Bounce",
        "ID": numeric_id,
        "Email": email,
        "From": "hello@example.com",
        "BouncedAt": when,
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Test subject",
        "Content": "<Full dump of bounce>",
    }
    body = {
        "delivered": {
            "RecordType": "Delivery",
            "Recipient": email,
            "DeliveredAt": when,
            "Details": "Test delivery webhook details",
        },
        "hard_bounce": {
            **bounce,
            "Type": "HardBounce",
            "TypeCode": 1,
            "Name": "Hard bounce",
            "Description": "The server was unable to deliver your message (ex: unknown user, "
            "mailbox not found).",
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        },
        "soft_bounce": {
            **bounce,
            "Type": "SoftBounce",
            "TypeCode": 4096,
            "Name": "Soft bounce",
            "Description": "Unable to temporarily deliver this email.",
            "Details": "smtp;452 4.2.2 Mailbox full",
        },
        "complaint": {
            **bounce,
            "RecordType": "SpamComplaint",
            "Type": "SpamComplaint",
            "TypeCode": 512,
            "Name": "Spam complaint",
            "Description": "The subscriber explicitly marked this message as spam.",
            "Details": "Test spam complaint details",
        },
        "unsubscribe": {
            "RecordType": "SubscriptionChange",
            "Recipient": email,
            "ChangedAt": when,
            "Origin": "Recipient",
            "SuppressSending": True,
            "SuppressionReason": "ManualSuppression",
        },
        "open": {
            "RecordType": "Open",
            "FirstOpen": True,
            "Client": {"Name": "Chrome 35.0.1916.153", "Company": "Google"},
            "OS": {"Name": "OS X 10.7 Lion", "Company": "Apple Computer, Inc."},
            "Platform": "WebMail",
            "UserAgent": user_agent or "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5)",
            "ReadSeconds": 5,
            "Geo": {"CountryISOCode": "RS", "Country": "Serbia", "IP": "188.2.95.4"},
            "ReceivedAt": when,
            "Recipient": email,
        },
        "click": {
            "RecordType": "Click",
            "ClickLocation": "HTML",
            "Platform": "Desktop",
            "UserAgent": user_agent or "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5)",
            "OriginalLink": url or "https://example.com/o",
            "ReceivedAt": when,
            "Recipient": email,
        },
    }[kind]
    return Post("/anymail/postmark/tracking/", json.dumps({**common, **body}))


def sendgrid(kind, email, delivery_id, *, event_id, at, url="", user_agent="") -> Post:
    common = {
        "email": email,
        "timestamp": int(at.timestamp()),
        "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
        "sg_event_id": event_id,
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        **_metadata(delivery_id),
    }
    body = {
        "delivered": {"event": "delivered", "response": "250 OK"},
        "hard_bounce": {
            "event": "bounce",
            "type": "bounce",
            "status": "5.0.0",
            "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
        },
        "soft_bounce": {
            "event": "bounce",
            "type": "blocked",
            "status": "4.0.0",
            "reason": "421 4.7.0 Try again later",
        },
        "complaint": {"event": "spamreport"},
        "unsubscribe": {"event": "unsubscribe"},
        # Dropped by SendGrid before sending: its own lists say the address is dead or gone.
        "dropped_bounced": {"event": "dropped", "reason": "Bounced Address"},
        "dropped_unsubscribed": {"event": "dropped", "reason": "Unsubscribed Address"},
        "open": {
            "event": "open",
            "useragent": user_agent or "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP)",
            "ip": "255.255.255.255",
        },
        "click": {
            "event": "click",
            "useragent": user_agent or "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP)",
            "ip": "255.255.255.255",
            "url": url or "https://example.com/o",
        },
    }[kind]
    return Post("/anymail/sendgrid/tracking/", json.dumps([{**common, **body}]))


def sendgrid_batch(events: list[Post]) -> Post:
    """SendGrid posts several events in one array."""
    return Post(events[0].url, json.dumps([e for p in events for e in json.loads(p.body)]))


def mailgun(kind, email, delivery_id, *, event_id, at, url="", user_agent="") -> Post:
    timestamp = str(int(at.timestamp()))
    token = hashlib.sha256(event_id.encode()).hexdigest()[:50]
    signature = hmac.new(
        MAILGUN_KEY.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    data = {
        "id": event_id[:22],
        "timestamp": at.timestamp(),
        "recipient": email,
        "tags": [],
        "user-variables": _metadata(delivery_id),
        "message": {
            "headers": {
                "to": email,
                "message-id": "20180628165359.1.B39B4F09A8A1A93D@example.com",
                "from": "hello@example.com",
                "subject": "Test",
            },
            "attachments": [],
            "size": 111,
        },
    }
    body = {
        "delivered": {
            "event": "delivered",
            "delivery-status": {"code": 250, "message": "OK", "description": "", "tls": True},
        },
        "hard_bounce": {
            "event": "failed",
            "severity": "permanent",
            "reason": "bounce",
            "delivery-status": {
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist.",
                "description": "",
            },
        },
        "soft_bounce": {
            "event": "failed",
            "severity": "temporary",
            "reason": "generic",
            "delivery-status": {"code": 452, "message": "4.2.2 Mailbox full", "description": ""},
        },
        "complaint": {"event": "complained"},
        "unsubscribe": {"event": "unsubscribed"},
        "open": {
            "event": "opened",
            "ip": "50.56.129.169",
            "client-info": {"user-agent": user_agent or "Mozilla/5.0 (Windows NT 6.1)"},
        },
        "click": {
            "event": "clicked",
            "url": url or "https://example.com/o",
            "ip": "50.56.129.169",
            "client-info": {"user-agent": user_agent or "Mozilla/5.0 (Windows NT 6.1)"},
        },
    }[kind]
    payload = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {**data, **body},
    }
    return Post("/anymail/mailgun/tracking/", json.dumps(payload))


BUILDERS = {
    "amazon_ses": amazon_ses,
    "postmark": postmark,
    "sendgrid": sendgrid,
    "mailgun": mailgun,
}
