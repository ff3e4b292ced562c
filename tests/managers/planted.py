"""The secrets planted in tests/fixtures/configs (all fake), and values that must be kept."""

from __future__ import annotations

from pathlib import Path

CONFIGS = Path(__file__).resolve().parent.parent / "fixtures" / "configs"

PLANTED = (
    "Vq7-Tz9mK2pLw4",  # app.yaml: URL password
    "Hunter2-Planted-Pw",  # app.yaml: database.password
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc9Q",  # app.yaml: stripe key under a secret key
    "whsec_planted_abcdef123456",  # app.yaml: *_signing_secret
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",  # app.yaml: PEM
    "BEGIN PRIVATE KEY",
    "UGxhbnRlZFNlY3JldDk5IQ==",  # k8s.yml: Secret data DB_PASSWORD
    "a2V5LW1hdGVyaWFsLXBsYW50ZWQ=",  # k8s.yml: Secret data SIGNING_KEY
    "AIzaSyD-planted9fK3lQ0xZt7Yb2Wc5Vn8Mr4Ju1",  # settings.json: apiKey
    "ghp_R8tK2mWq9ZxV4bN7cL1pD5fH3jS6gA0yE2uT",  # settings.json: GitHub token, neutral key
    "eyJzdWIiOiJwbGFudGVkIiwibmFtZSI6IkpvaG4ifQ",  # settings.json: JWT, neutral key
    "toml-planted-Pw-77",  # config.toml: database.password
    "AKIAQ3EGRT5YB2MXW7PL",  # config.toml: AWS access key id
    "q8Zt3Lm0Vx7Rb2Nc9Kd4Wf6Hj1Gs5Ty8Pa0Ue3Ri",  # config.toml: AWS secret key
    "Xk9fQ2mZr7Lw3Tb8Vn5Yc1Hd6Js4Gp0Ea",  # config.toml: high entropy under a neutral key
    "MirrorPw-planted-42",  # config.toml: URL password inside an array of tables
    "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZjEyLXBsYW50ZWQtdG9rZW4",  # setup.cfg: upload.password
    "Env-Planted-Pw-5",  # .env: DATABASE_URL password
    "env-planted-session-secret-value",  # .env: SESSION_SECRET
    "xoxb-2048-planted-Rt8Kq3Zm",  # .env: Slack token
    "KwPlantedPw88",  # .env: keyword DSN password
)

#: Files discovery must skip (node_modules, a virtual environment).
NEVER_READ = ("should-never-be-read-node-modules", "venv-file-not-read")

#: (key path, rendered value) pairs that must survive redaction.
KEPT = (
    ("server.port", "8443"),
    ("server.host", "0.0.0.0"),
    ("server.debug", "false"),
    ("server.static_dir", "/srv/app/static"),
    ("database.password_min_length", "12"),
    ("redis.host", "cache.internal"),
    ("redis.token_ttl", "3600"),
    ("payments.currencies", "[EUR, USD]"),
    ("tls.cert_file", "/etc/ssl/app.crt"),
    ("#1.spec.template.spec.containers[0].image", "registry.example.com/shop/orders-api:2.4.1"),
    ("telemetry.endpoint", "https://otel.example.com/v1/traces"),
    ("telemetry.enabled", "true"),
    ("telemetry.sample_rate", "0.25"),
    ("aws.region", "eu-west-3"),
    ("build.targets", "[linux-x86_64, linux-aarch64]"),
    ("mirrors[0].url", "https://mirror.example.com/packages"),
    ("options.python_requires", ">=3.11"),
    ("DATA_DIR", "/var/lib/orders"),
    ("PORT", "8080"),
    ("DB_PASSWORD", "${VAULT_DB_PASSWORD}"),
)
