"""The public API: ``__all__`` is sorted, complete and importable."""

from __future__ import annotations

import planvec


def test_all_is_sorted_and_importable() -> None:
    assert planvec.__all__ == sorted(planvec.__all__)
    for name in planvec.__all__:
        assert hasattr(planvec, name), name


def test_every_public_class_or_function_is_exported() -> None:
    public = {
        name
        for name, value in vars(planvec).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("planvec")
    }
    assert public <= set(planvec.__all__), public - set(planvec.__all__)
