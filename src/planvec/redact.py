"""Redaction of credentials in URLs, wherever a URL is rendered.

A Qdrant URL may carry a password (``https://user:secret@host:6333``) or an API key in its
query (``?api_key=...``). Users paste such URLs into ``--qdrant-url``; planvec must never
echo the secret back: not in errors, logs, reports (``health --json``), manifests or
metric labels. ``redact_url`` cleans one URL; ``redact_text`` cleans every URL inside a
free-form message (an exception text from a third-party library, a log line).
``RedactingFilter`` applies ``redact_text`` to every log record (belt and braces: the
messages planvec builds are already clean). PostgreSQL DSNs (the catalogue's ``--dsn``) come in
two forms, URLs and keyword strings (``host=db password=secret``): ``redact_dsn`` and ``scrub``
handle both.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"

# scheme://user[:password]@  (userinfo cannot hold "/", "@" or whitespace)
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s'\"]+)@")
# ?api_key=...  &password=...  (query parameters that carry secrets)
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;](?:api[_-]?key|apikey|key|token|access[_-]?token|password|passwd|pwd|secret)=)"
    r"(?P<value>[^&#\s'\"]+)",
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***``.

    Example:
        >>> redact_text("cannot reach http://bob:hunter2@db:6333 (refused)")
        'cannot reach http://***@db:6333 (refused)'
    """
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m.group('key')}{MASK}", text)


def redact_url(url: str | None) -> str | None:
    """One URL without its credentials (``None`` stays ``None``).

    Example:
        >>> redact_url("https://admin:s3cret@qdrant.example:6333/?api_key=abc")
        'https://***@qdrant.example:6333/?api_key=***'
        >>> redact_url("bob:pw@localhost:6333")  # no scheme: still a user and a password
        '***@localhost:6333'
    """
    if url is None:
        return None
    if "://" not in url and "@" in url.split("/", 1)[0]:
        url = MASK + url[url.split("/", 1)[0].rindex("@") :]
    return redact_text(url)


def has_credentials(url: str | None) -> bool:
    """Whether ``url`` carries a password or secret that redaction would hide."""
    return bool(url) and redact_text(url or "") != url


class RedactingFilter(logging.Filter):
    """A logging filter that redacts URL credentials in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add one ``RedactingFilter`` to every handler of ``logger`` (root by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


# -- PostgreSQL DSNs (URL and keyword forms) --------------------------------------------

_URL_PASSWORD = re.compile(r"(?P<head>^[a-z][a-z0-9+.-]*://[^:@/?#]*:)(?P<pw>[^@/?#]*)(?=@)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<pw>[^&#]*)", re.I)
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)


def redact_dsn(dsn: str) -> str:
    """``dsn`` with every password replaced by ``***`` (user, host and database kept)."""
    out = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, dsn)
    out = _QUERY_PASSWORD.sub(lambda m: m["head"] + MASK, out)
    if "://" not in out:
        out = _KEYWORD_PASSWORD.sub(lambda m: m["head"] + MASK, out)
    return out


def dsn_passwords(dsn: str) -> list[str]:
    """Every password spelled in ``dsn`` (raw and URL-decoded forms), longest first."""
    found: set[str] = set()
    for pattern in (_URL_PASSWORD, _QUERY_PASSWORD, _KEYWORD_PASSWORD):
        for match in pattern.finditer(dsn):
            raw = match["pw"].strip("'")
            found.update({raw, unquote(raw)})
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password:
            found.add(parts.password)
        found.update(v for k, v in parse_qsl(parts.query) if k.lower() == "password")
    return sorted((p for p in found if p), key=len, reverse=True)


def scrub(message: str, dsn: str) -> str:
    """``message`` with the DSN redacted and any of its passwords masked, wherever they sit."""
    out = message.replace(dsn, redact_dsn(dsn)) if dsn else message
    for password in dsn_passwords(dsn):
        out = out.replace(password, MASK)
    return out
