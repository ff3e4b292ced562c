"""``planvec serve``: one long-lived process owns the index, the warm model and the cache.

Everything else is its client: the HTTP API (``planvec.service.app``), the CLI (which finds
the owner through a discovery file, ``planvec.service.discovery``), dashboards and alerting
(``/metrics``). This package must stay importable without its extra (``serve``): only
``app``, ``runner``, ``watch`` and ``metrics`` import FastAPI, uvicorn, watchfiles or
prometheus-client, and nothing imports them at module level from outside.
"""
