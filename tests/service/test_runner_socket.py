"""The owner's listening socket lets asyncio turn Nagle's algorithm off on its connections.

With ``socket.socket(AF_INET, SOCK_STREAM)`` the protocol is 0 and asyncio's ``_set_nodelay``
skips accepted sockets, so each response (headers, then body: two writes) waited ~40 ms for the
client's delayed ACK. Checked on a real loopback connection, not by timing.
"""

from __future__ import annotations

import asyncio.base_events
import socket

import pytest

pytest.importorskip("uvicorn")

from planvec.service.runner import bind_socket


def test_accepted_connections_get_tcp_nodelay_from_asyncio() -> None:
    server = bind_socket("127.0.0.1", 0)
    client = socket.create_connection(server.getsockname()[:2], timeout=5)
    conn, _ = server.accept()
    try:
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        asyncio.base_events._set_nodelay(conn)  # what asyncio's socket transport does
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        for sock in (conn, client, server):
            sock.close()
