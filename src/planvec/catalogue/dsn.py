"""DSN secrets: the password of a PostgreSQL DSN never reaches a log, an error or a report.

Both DSN forms are handled: URLs (``postgresql://user:secret@host/db?password=...``) and
keyword strings (``host=db user=app password=secret``). Kept small and free of psycopg so it
can later merge with a generic URL-credential redactor.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"

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
