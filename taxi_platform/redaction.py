"""One redaction for every text the platform emits (errors it raises or wraps, log lines, metadata, sensor messages).

No Dagster, no Spark. ``redact_text`` removes, anywhere in a text (also inside third-party exception text that repeats
a URL, its path or its query, such as urllib3's ``Max retries exceeded with url: /x.parquet?X-Amz-Signature=...``):

- the userinfo of URLs (``https://user:password@host/`` -> ``https://host/``);
- every query string, of a full URL or of a bare path (``?X-Amz-Signature=...&token=...`` -> ``?<redacted>``):
  signed URLs (S3/GCS presigned, tokens) are a normal way to point a source at a private mirror, and a query's
  parameter names do not tell a secret from a page number reliably;
- the value of a known secret parameter in ``name=value``, ``name: value`` or JSON ``"name": "value"`` form
  (``SECRET_NAMES``: password, token, signature, keyfile, private_key, ...; ``Authorization: Bearer x`` too);
- PEM blocks (``-----BEGIN PRIVATE KEY----- ...``);
- every value registered with ``register_secret`` (the service-account keyfile path, for example), verbatim.

``cap_text`` bounds a text's length (a head plus the total size), so that a message quoting bad data stays readable.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit, urlunsplit

REDACTED = "<redacted>"
MAX_MESSAGE_CHARS = 2000  # errors: the head of the text, then how much more there was

SECRET_NAMES = (
    "password", "passwd", "pwd", "passphrase", "secret", "client_secret", "token", "access_token", "refresh_token",
    "id_token", "auth_token", "session_token", "security_token", "api_key", "apikey", "api-key", "access_key",
    "secret_key", "private_key", "private_key_id", "signature", "sig", "x-amz-signature", "x-amz-credential",
    "x-amz-security-token", "x-goog-signature", "x-goog-credential", "credential", "credentials", "authorization",
    "keyfile", "json.keyfile",
)

# scheme://rest-of-URL (stops at whitespace, quotes and brackets)
_URL = re.compile(r"""\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'"<>`\\{}|^]+""")
_TRAILING = ".,;:)]}!"
# a query string outside a full URL: "?name=..." up to whitespace or a quote
_QUERY = re.compile(r"""\?(?=[^\s=&?'"<>]+=)[^\s'"<>`]*""")
_NAMES = "|".join(sorted((re.escape(n) for n in SECRET_NAMES), key=len, reverse=True))
_SECRET_PARAM = re.compile(
    rf"""(?i)(?<![\w\-])({_NAMES})(["']?\s*[=:]\s*)(["']?)((?:bearer|basic|token)\s+[^\s"',;&)}}\]]+|[^\s"',;&)}}\]]+)"""
)

_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?(-----END [A-Z ]+-----|$)", re.DOTALL)

_registered: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remove ``value`` verbatim from every text ``redact_text`` sees from now on (this process). Values shorter than
    4 characters are ignored (they would mangle ordinary words)."""
    if value and len(value) >= 4:
        with _lock:
            _registered.add(value)


def redact_url(url: str) -> str:
    """``url`` safe to show: no userinfo, no fragment, a query string replaced by ``<redacted>``.

    ``https://u:p@host:8443/a/b.parquet?sig=1`` -> ``https://host:8443/a/b.parquet?<redacted>``. Text that is not a
    URL (a local path) is returned as it is, less registered secrets.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme or (not parts.netloc and parts.scheme != "file"):
        return _without_registered(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = REDACTED if parts.query else ""
    safe = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    if not parts.query and url.split("#", 1)[0].endswith("?"):
        safe += "?"  # keeps an already redacted "...?<redacted>" (cut before "<" by redact_text) as it was
    return _without_registered(safe)


def redact_text(text: object) -> str:
    """``str(text)`` with every URL's userinfo and query, every bare query string, every known secret parameter's
    value and every registered secret replaced by ``<redacted>`` (module docstring)."""
    out = _without_registered(str(text))
    out = _PEM.sub(REDACTED, out)
    out = _URL.sub(_redact_url_match, out)
    out = _QUERY.sub("?" + REDACTED, out)
    out = _SECRET_PARAM.sub(lambda m: m.group(1) + m.group(2) + m.group(3) + REDACTED, out)
    return out


def cap_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` when it has at most ``limit`` characters, else its head and ``[... N more characters; M in all]``."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} [... {len(text) - limit} more characters; {len(text)} in all]"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def safe_message(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """What an error or log line may carry: redacted, capped at ``limit`` characters of the redacted text (the
    count and the total reported are of that text), control characters but tab and newline shown escaped
    (``\\x00``)."""
    redacted = redact_text(text)
    head = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", redacted[:limit])[:limit]
    if len(redacted) <= limit:
        return head
    return f"{head} [... {len(redacted) - limit} more characters; {len(redacted)} in all]"


def _redact_url_match(match: re.Match) -> str:
    url = match.group(0)
    tail = ""
    while url and url[-1] in _TRAILING:
        url, tail = url[:-1], url[-1] + tail
    return redact_url(url) + tail


def _without_registered(text: str) -> str:
    with _lock:
        secrets = sorted(_registered, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that passes every record through ``safe_message`` (message and arguments, formatted first).
    Attach it to a module's logger (``logger.addFilter(RedactingFilter())``): a logger's filters see the records
    logged on that logger itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let logging report it as it would
            return True
        record.msg, record.args = safe_message(message, 8000), None
        return True


def redacting_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with a ``RedactingFilter`` attached (once)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
