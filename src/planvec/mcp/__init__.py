"""``planvec mcp``: an MCP server over the plans, their progress and the index.

``backend`` computes (no SDK import), ``render`` writes the compact texts, ``server`` binds
them to the official ``mcp`` SDK (the ``mcp`` extra). Modules here import the SDK with
absolute imports (``from mcp.server...``): this package is ``planvec.mcp``, never ``mcp``.
"""

from __future__ import annotations
