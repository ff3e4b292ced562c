"""Run the MCP server over stdio or Streamable HTTP (loopback by default)."""

from __future__ import annotations

from planvec.errors import ConfigError
from planvec.mcp.backend import PlanBackend

TRANSPORTS = ("stdio", "http")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def run_server(
    backend: PlanBackend,
    *,
    transport: str = "stdio",
    host: str = "127.0.0.1",
    port: int = 8766,
    path: str = "/mcp",
) -> None:
    """Serve ``backend`` until the client goes away (stdio) or the process is stopped (http).

    Raises:
        ConfigError: an unknown transport.
    """
    from planvec.mcp.server import build_server

    if transport not in TRANSPORTS:
        raise ConfigError(f"transport {transport!r}: choose stdio or http")
    server = build_server(backend)
    if transport == "stdio":
        server.run("stdio")
        return
    server.run("streamable-http", host=host, port=port, streamable_http_path=path)


def check_host(host: str) -> None:
    """The HTTP transport has no authentication: only loopback addresses are served.

    Raises:
        ConfigError: ``host`` is not a loopback address.
    """
    if host not in LOOPBACK:
        raise ConfigError(
            f"--host {host}: the MCP HTTP transport has no authentication, so it listens on "
            "loopback only (127.0.0.1, localhost, ::1); put an authenticating proxy in front "
            "to reach it from elsewhere"
        )
