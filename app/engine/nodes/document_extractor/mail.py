"""E-mail (.eml) files through the standard library: the From, To, Cc, Date and Subject
headers, a blank line, then the body (the plain-text part, else the HTML part as text).
Attachments are not opened."""

import email
import email.policy
from email.message import EmailMessage

from app.engine.nodes.document_extractor.budget import Budget
from app.engine.nodes.document_extractor.html_text import html_lines

HEADERS = ("From", "To", "Cc", "Date", "Subject")


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: its bytes as UTF-8
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="ignore") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        return "\n".join(html_lines(content))
    return content.strip()


def eml_text(content: bytes, budget: Budget) -> str:
    message = email.message_from_bytes(content, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # the default policy always makes one
        raise TypeError("not an e-mail message")
    headers = [f"{name}: {value}" for name in HEADERS if (value := message.get(name))]
    body = _body(message)
    if not headers:
        return body
    return "\n".join(headers) + ("\n\n" + body if body else "")
