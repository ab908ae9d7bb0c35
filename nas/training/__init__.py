"""Training any spec with Lightning: the module, its settings, and the proxy tasks a search uses."""

from __future__ import annotations

from nas.training._fit import quick_fit
from nas.training._module import Diverged, ImageClassifier, warmup_cosine
from nas.training._settings import Optimizer, OptimSettings, ProxySettings, proxy_spec

__all__ = [
    "Diverged",
    "ImageClassifier",
    "OptimSettings",
    "Optimizer",
    "ProxySettings",
    "proxy_spec",
    "quick_fit",
    "warmup_cosine",
]
