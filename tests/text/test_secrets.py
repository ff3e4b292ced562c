"""planvec.text.secrets: the three redaction rules, on planted and ordinary values."""

from __future__ import annotations

import random
import string

import pytest

from planvec.text.secrets import (
    is_high_entropy,
    is_secret_key,
    redact_value,
    scan_text,
    shannon_entropy,
)


@pytest.mark.parametrize(
    "path",
    [
        "password",
        "database.password",
        "DB_PASSWORD",
        "dbPassword",
        "api_key",
        "apiKey",
        "APIKEY",
        "stripe.secret_key",
        "private_key",
        "aws.secret_access_key",
        "github_token",
        "auth.client_secret",
        "credentials.login",
        "secrets.db",
        "session_cookie_secret",
        "encryption-key",
        "smtp.pass",
    ],
)
def test_secret_keys(path: str) -> None:
    assert is_secret_key(path)


@pytest.mark.parametrize(
    "path",
    [
        "port",
        "database.host",
        "password_min_length",
        "token_ttl",
        "auth.token_url",
        "tls.key",
        "primary_key",
        "sort_key",
        "secret_file",
        "secrets.backend",
        "max_tokens",
        "keyboard_layout",
        "passport_country",
        "db_password_env",
    ],
)
def test_ordinary_keys(path: str) -> None:
    assert not is_secret_key(path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("AKIAQ3EGRT5YB2MXW7PL", "aws-access-key"),
        ("token ghp_R8tK2mWq9ZxV4bN7cL1pD5fH3jS6gA0yE2uT end", "github-token"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "jwt"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----", "pem-block"),
        ("xoxb-2048-planted-Rt8Kq3Zm", "slack-token"),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc9Q", "stripe-key"),
        ("AIzaSyD-planted9fK3lQ0xZt7Yb2Wc5Vn8Mr4Ju1", "google-api-key"),
        ("Authorization: Bearer abc.def-ghi_jkl", "bearer-token"),
        ("postgresql://app:Pw-planted@db:5432/x", "url-credentials"),
        ("host=db user=app password=KwPlanted", "url-credentials"),
        ("Xk9fQ2mZr7Lw3Tb8Vn5Yc1Hd6Js4Gp0Ea", "high-entropy"),
        ("3f786850e387550fdab836ed7e6dc881de23001b", "high-entropy"),
    ],
)
def test_known_formats_and_entropy_are_redacted(text: str, reason: str) -> None:
    scan = scan_text(text)
    assert reason in scan.reasons
    assert f"[REDACTED:{reason}]" in scan.text or "***" in scan.text
    for secret in ("Q3EGRT5YB2MXW7PL", "R8tK2mWq9Z", "c2lnbmF0dXJl", "MIIabc", "Pw-planted"):
        assert secret not in scan.text


@pytest.mark.parametrize(
    "text",
    [
        "0.0.0.0",
        "8080",
        "/usr/local/lib/python3.11/site-packages",
        "/home/user/projects/my-app-2024/config",
        "src/components/UserProfileCard2.tsx",
        "ProductionDatabaseServer2024",
        "registry.example.com/shop/orders-api:2.4.1",
        "123e4567-e89b-12d3-a456-426614174000",
        "https://otel.example.com/v1/traces",
        "Mettre en place la sauvegarde de la base de données",
        "org/apache/commons/lang3/StringUtils3",
    ],
)
def test_ordinary_values_are_kept(text: str) -> None:
    scan = scan_text(text)
    assert scan.text == text and not scan.redacted


def test_entropy_rule_catches_random_tokens() -> None:
    """Random 32-character URL-safe tokens: the rule misses at most 2 % of them."""
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "-_"
    tokens = ["".join(rng.choice(alphabet) for _ in range(32)) for _ in range(500)]
    missed = sum(1 for t in tokens if not is_high_entropy(t))
    assert missed <= 10
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)


def test_redact_value_rules() -> None:
    assert redact_value(["db", "password"], "hunter2") == ("[REDACTED:secret-key]", ("secret-key",))
    assert redact_value(["db", "password"], "${DB_PASSWORD}") == ("${DB_PASSWORD}", ())
    assert redact_value(["db", "password"], True) == (True, ())
    for reference in ("$DB_PW", "${DB_PW:?set DB_PW}", "${{ secrets.GITHUB_TOKEN }}"):
        assert redact_value(["password"], reference) == (reference, ())
    assert redact_value(["password"], "${DB_PW:-hunter2}")[0] == "[REDACTED:secret-key]"
    assert redact_value(["db", "password"], 123456)[0] == "[REDACTED:secret-key]"
    assert redact_value(["db", "port"], 5432) == (5432, ())
    assert redact_value(["note"], "see AKIAQ3EGRT5YB2MXW7PL")[1] == ("aws-access-key",)
