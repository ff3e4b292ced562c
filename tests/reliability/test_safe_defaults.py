"""Safe defaults: secrets never leak, TLS is verified, files are private.

* The API key comes from the environment only (a config file holding it is refused) and is
  never shown: not in ``repr(Settings)``, not in DEBUG logs (ours, httpx's, httpcore's), not in
  ``planvec health --json``, not in index reports, not in archives.
* TLS certificates are verified by default: a self-signed server is refused unless
  verification is turned off explicitly.
* The index directory is 0700, lock and manifest files 0600, archives 0600, whatever the
  umask.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import ssl
import stat
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from planvec.errors import ConfigError, StoreError
from planvec.settings import Settings, load_settings
from planvec.store import open_store

from .conftest import REPO, Figures
from .test_store_faults import COLLECTIONS, _serve, _stop, _Upstream

pytestmark = pytest.mark.reliability

SECRET = "pv-secret-9f8e7d6c5b4a"
PLANS = REPO / "examples" / "plans"


@pytest.fixture
def upstream() -> Iterator[str]:
    server = _serve(_Upstream)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _stop(server)


def _cli(*args: str, umask: int | None = None) -> tuple[int, str, str]:
    full_env = dict(os.environ, PLANVEC_EMBEDDER="hashing", PLANVEC_API_KEY=SECRET)
    proc = subprocess.run(
        [sys.executable, "-m", "planvec", "-vv", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_api_key_from_env_only_and_never_in_repr(tmp_path: Path) -> None:
    settings = load_settings(env={"PLANVEC_API_KEY": SECRET})
    assert settings.api_key == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert load_settings(env={"QDRANT_API_KEY": SECRET}).api_key == SECRET
    config = tmp_path / "planvec.toml"
    config.write_text(f'qdrant_url = "http://localhost:6333"\napi_key = "{SECRET}"\n')
    with pytest.raises(ConfigError, match="PLANVEC_API_KEY") as info:
        load_settings(env={}, config_file=config)
    assert SECRET not in str(info.value)


def test_api_key_never_in_debug_logs(
    upstream: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, figures: Figures
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    store = open_store(index_dir=tmp_path, qdrant_url=upstream, api_key=SECRET, retries=2)
    try:
        assert store.list_collections() == COLLECTIONS
        assert store.health() is not None
        with pytest.raises(StoreError) as info:
            store.count("missing")  # an error path logs and raises too
        assert SECRET not in str(info.value)
    finally:
        store.close()
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert SECRET not in caplog.text
    assert all(SECRET not in repr(r.args) for r in caplog.records)
    figures.add("safe_defaults", "checks", 1)


def test_api_key_never_in_cli_output_reports_or_archives(
    upstream: str, tmp_path: Path, figures: Figures
) -> None:
    code, out, err = _cli("health", "--qdrant-url", upstream, "--json")
    assert out.strip(), err
    json.loads(out)
    assert SECRET not in out and SECRET not in err
    index = tmp_path / "idx"
    code, out, err = _cli("index", str(PLANS), "--index", str(index), "--json")
    assert code == 0, err
    assert json.loads(out)["added"] > 0
    assert SECRET not in out and SECRET not in err
    archive = tmp_path / "backup.planvec.tar"
    code, out, err = _cli("export", str(archive), "--index", str(index), "--json")
    assert code == 0, err
    assert SECRET not in out and SECRET not in err
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.endswith(".gz"):
                data = gzip.decompress(data)
            assert SECRET.encode() not in data, member.name
    for path in index.rglob("*"):  # nor anywhere in the index directory
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    figures.add("safe_defaults", "checks", 1)


def test_index_directory_lock_and_archive_permissions(tmp_path: Path, figures: Figures) -> None:
    index = tmp_path / "idx"
    code, _, err = _cli("index", str(PLANS), "--index", str(index), umask=0)  # most permissive
    assert code == 0, err
    assert stat.S_IMODE(index.stat().st_mode) == 0o700
    lock = index / ".planvec_tasks.lock"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    manifests = list(index.rglob("*.manifest.json"))
    assert manifests and all(stat.S_IMODE(m.stat().st_mode) == 0o600 for m in manifests)
    archive = tmp_path / "out" / "backup.planvec.tar"
    code, _, err = _cli("export", str(archive), "--index", str(index), umask=0)
    assert code == 0, err
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    figures.add("safe_defaults", "checks", 1)


def test_tls_is_verified_by_default(tmp_path: Path, figures: Figures) -> None:
    assert Settings().verify_tls is True and load_settings(env={}).verify_tls is True
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        store = open_store(index_dir=tmp_path, qdrant_url=url, retries=1, api_key=SECRET)
        try:
            with pytest.raises(StoreError, match=r"(?i)certificate") as info:
                store.list_collections()  # self-signed: refused, the key was never sent
            assert SECRET not in str(info.value)
        finally:
            store.close()
        insecure = open_store(index_dir=tmp_path, qdrant_url=url, retries=1, verify_tls=False)
        try:
            assert insecure.list_collections() == COLLECTIONS  # only when asked explicitly
        finally:
            insecure.close()
    finally:
        _stop(server)
    figures.add("safe_defaults", "checks", 1)
