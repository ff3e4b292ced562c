"""Managers: dependencies, configuration files, database schemas and security policies,
indexed through the same registry, sync, checks, backup and service as plans.

See ``planvec.managers.base`` for the contract and ``docs/managers.md`` for the guide.
"""
