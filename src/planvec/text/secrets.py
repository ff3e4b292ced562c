"""Secret detection and redaction: what must never reach an embedder, a payload or a log.

Used by the configuration and schema managers (and reusable by any source of free text).
Three independent rules, each documented in ``docs/managers-storage.md``:

1. **Secret-looking keys** (``is_secret_key``): a key path whose words (split on ``.``,
   ``_``, ``-``, spaces and camelCase) include ``password``, ``passwd``, ``pwd``, ``pass``,
   ``passphrase``, ``secret``, ``token``, ``credential(s)``, ``creds``, ``salt``, ``hmac``,
   ``bearer``, ``authorization``, ``cookie``, or ``key`` right after ``api``/``private``/
   ``secret``/``access``/``encryption``/``signing``/``master``/``license``/``client``/
   ``session``/``shared``/``app``/``account``/``storage`` (also glued: ``apikey``,
   ``privatekey``...). The whole value is redacted, unless the key's *last* word is a
   harmless qualifier (``password_min_length``, ``token_ttl``, ``secret_file``,
   ``token_url``...) or its first word a count (``max_tokens``), or the value is a boolean,
   a null, an empty string or a bare reference to a secret kept elsewhere (``$DB_PW``,
   ``${DB_PW}``, ``${DB_PW:?message}``, ``${{ secrets.DB_PW }}``; never ``${DB_PW:-default}``).
2. **Known formats** anywhere in any value (``scan_text``): PEM blocks, AWS access key ids,
   GitHub tokens, JWTs, Slack tokens, Stripe live/test keys, Google API keys, ``Bearer``
   headers, URL credentials (``scheme://user:pw@host``, ``?password=``) and keyword DSN
   passwords (``password=...``), via ``planvec.redact``.
3. **High entropy**: a token (a run of ``[A-Za-z0-9+/=_-]``) of at least 20 characters,
   holding letters and digits, whose Shannon entropy is at least
   ``min(4.0, log2(length) - 0.7)`` bits per character and whose letters and digits change
   class (lower/upper/digit) at no less than 30 % of positions; or a hexadecimal token of
   at least 32 characters with at least 3.0 bits per character. UUIDs are kept.

Redacted text says what was removed and why, never how long it was or a hash of it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from planvec.redact import redact_dsn, redact_text

#: Bump when a rule changes: sources fold it into their file hashes, so a changed rule
#: re-redacts everything on the next sync.
SECRETS_RULES_VERSION = "secrets-1"


def redaction_marker(reason: str) -> str:
    """The text that replaces a secret: ``[REDACTED:<reason>]``."""
    return f"[REDACTED:{reason}]"


_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "credential",
        "credentials",
        "creds",
        "salt",
        "hmac",
        "bearer",
        "authorization",
        "cookie",
        "apikey",
        "privatekey",
        "secretkey",
        "accesskey",
        "apitoken",
        "authtoken",
    }
)
_KEY_QUALIFIERS = frozenset(
    {
        "api",
        "private",
        "secret",
        "access",
        "encryption",
        "signing",
        "master",
        "license",
        "client",
        "session",
        "shared",
        "app",
        "account",
        "storage",
        "auth",
        "consumer",
    }
)
#: a key ending with one of these words names a setting *about* a secret, not the secret
_HARMLESS_LAST_WORDS = frozenset(
    {
        "length",
        "len",
        "min",
        "max",
        "minimum",
        "maximum",
        "ttl",
        "expiry",
        "expires",
        "expiration",
        "lifetime",
        "timeout",
        "age",
        "count",
        "size",
        "enabled",
        "enable",
        "disabled",
        "required",
        "policy",
        "rotation",
        "days",
        "hours",
        "minutes",
        "seconds",
        "ms",
        "type",
        "algorithm",
        "algo",
        "header",
        "field",
        "name",
        "env",
        "var",
        "file",
        "path",
        "dir",
        "url",
        "uri",
        "endpoint",
        "host",
        "port",
        "provider",
        "issuer",
        "audience",
        "scope",
        "scopes",
        "mode",
        "format",
        "prefix",
        "location",
        "backend",
        "manager",
        "store",
        "id",
        "user",
        "username",
    }
)
#: ``max_tokens``, ``num_secrets``: a number of secrets, not a secret
_COUNT_FIRST_WORDS = frozenset({"max", "min", "num", "number"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+")
#: ``$VAR``, ``${VAR}``, ``${VAR:?message}`` (no default value: a default may be a secret) and
#: CI expressions ``${{ secrets.NAME }}``: references to a secret kept elsewhere
_ENV_REFERENCE = re.compile(
    r"^(?:\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*)?\}"
    r"|\$\{\{\s*[A-Za-z_][\w.-]*\s*\}\})$"
)


def key_words(key: str) -> list[str]:
    """The lowercase words of one key (``dbPassword`` -> ``["db", "password"]``)."""
    return [w.lower() for w in _WORD_SPLIT.split(_CAMEL.sub(" ", key)) if w]


def _words_are_secret(words: Sequence[str]) -> bool:
    for i, word in enumerate(words):
        if word in _SECRET_WORDS:
            return True
        if word == "key" and i and words[i - 1] in _KEY_QUALIFIERS:
            return True
    return False


def is_secret_key(path: Sequence[str] | str) -> bool:
    """Whether a value stored under this key path must be redacted (rule 1).

    Only the last component decides, except that a secret-looking *parent*
    (``credentials.user``, ``secrets.db``) makes all its children secret unless their own
    name is a harmless qualifier (``secrets.backend``).

    Example:
        >>> is_secret_key(["database", "password"]), is_secret_key("auth.password_min_length")
        (True, False)
    """
    parts = path.split(".") if isinstance(path, str) else list(path)
    if not parts:
        return False
    last = key_words(parts[-1])
    if last and (last[-1] in _HARMLESS_LAST_WORDS or last[0] in _COUNT_FIRST_WORDS):
        return False
    if _words_are_secret(last):
        return True
    return any(_words_are_secret(key_words(parent)) for parent in parts[:-1])


def is_harmless_value(value: object) -> bool:
    """Booleans, nulls, empty strings and bare env-var references carry no secret."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, str):
        stripped = value.strip()
        return not stripped or bool(_ENV_REFERENCE.match(stripped))
    return False


# -- rule 2: known formats ---------------------------------------------------------------

_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "pem-block",
        re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL),
    ),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{40,})")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")),
    ("slack-token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("stripe-key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("bearer-token", re.compile(r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{8,}")),
)
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{20,}")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def shannon_entropy(text: str) -> float:
    """Shannon entropy of ``text`` in bits per character (0.0 for empty text)."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())


def is_high_entropy(token: str) -> bool:
    """Rule 3: whether one token looks like a random secret (see the module docstring)."""
    length = len(token)
    if _UUID.match(token):
        return False
    if _HEX.match(token):
        return length >= 32 and shannon_entropy(token) >= 3.0
    if length < 20:
        return False
    if not (any(c.isalpha() for c in token) and any(c.isdigit() for c in token)):
        return False
    letters_digits = [c for c in token if c.isalnum()]
    if class_switches(letters_digits) < 0.3 * (len(letters_digits) - 1):
        return False
    return shannon_entropy(token) >= min(4.0, math.log2(length) - 0.7)


def _char_class(char: str) -> int:
    if char.islower():
        return 0
    return 1 if char.isupper() else 2


def class_switches(chars: Sequence[str]) -> int:
    """How often consecutive letters/digits change class (lower, upper, digit).

    Random strings switch at about 60 % of positions, words and paths (``site-packages``,
    ``UserProfileCard2``) far less: this tells them apart where entropy alone cannot.
    """
    return sum(1 for a, b in pairwise(chars) if _char_class(a) != _char_class(b))


@dataclass(frozen=True)
class Scan:
    """The result of scanning one text: the clean text and the reasons of what was removed."""

    text: str
    reasons: tuple[str, ...] = ()

    @property
    def redacted(self) -> bool:
        return bool(self.reasons)


def scan_text(text: str) -> Scan:
    """``text`` with every known-format secret, URL credential and high-entropy token
    replaced by a marker (rules 2 and 3).

    Example:
        >>> scan_text("key AKIAIOSFODNN7EXAMPLE here").text
        'key [REDACTED:aws-access-key] here'
    """
    reasons: list[str] = []
    out = text
    for reason, pattern in _FORMATS:
        out, count = pattern.subn(redaction_marker(reason), out)
        if count:
            reasons.append(reason)
    cleaned = redact_dsn(redact_text(out))
    if cleaned != out:
        reasons.append("url-credentials")
        out = cleaned

    def _entropy(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("REDACTED") or not is_high_entropy(token):
            return token
        reasons.append("high-entropy")
        return redaction_marker("high-entropy")

    out = _TOKEN.sub(_entropy, out)
    return Scan(out, tuple(dict.fromkeys(reasons)))


def redact_value(path: Sequence[str], value: object) -> tuple[object, tuple[str, ...]]:
    """The value to store for key ``path``, and why it was redacted (empty when kept).

    Numbers and booleans are kept unless the key is secret; strings are scanned (rules 2-3)
    even under harmless keys. A secret key's whole value is replaced (rule 1).
    """
    if is_secret_key(path) and not is_harmless_value(value):
        return redaction_marker("secret-key"), ("secret-key",)
    if isinstance(value, str):
        scan = scan_text(value)
        return scan.text, scan.reasons
    return value, ()


def redact_all(texts: Iterable[str]) -> list[str]:
    """``scan_text`` over many texts (their clean forms only)."""
    return [scan_text(t).text for t in texts]
