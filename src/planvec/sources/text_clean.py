"""Re-export of ``planvec.text.clean`` (the cleaner moved to the text layer)."""

from planvec.text.clean import clean_text

__all__ = ["clean_text"]
