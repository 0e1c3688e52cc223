"""Writing facts as MEMIT edits, with what every edit needs made once.

    w = Writer(lm, hp)                      # statistics and projectors: from the cache, on first use
    e = w.write([fact], keep_keys=K)        # one null-space edit that leaves the keys K alone
    e = w.write(facts, projected=False)     # plain MEMIT, all facts in one batch

The covariance statistics (stats.py) and the null-space projectors (nullspace.py) belong to the
model's weights, not to any one edit: the machine's wake and the sleep's refresh share one Writer.
"""
from __future__ import annotations

from .contexts import Request
from .edits import Edit
from .memit import apply_memit
from .nullspace import null_projectors
from .stats import layer_stats


class Writer:
    def __init__(self, lm, hp, progress: bool = True):
        self.lm, self.hp, self.progress = lm, hp, progress
        self._stats = self._proj = None

    def stats(self) -> dict:
        """{layer: C = E[k k^T]} of every edited layer."""
        if self._stats is None:
            self._stats = layer_stats(self.lm, self.hp, progress=self.progress)
        return self._stats

    def projectors(self) -> dict:
        """{layer: P} onto the directions ordinary text's keys leave free (AlphaEdit)."""
        if self._proj is None:
            self._proj = null_projectors(self.lm, self.hp, self.stats())
        return self._proj

    def write(self, facts: list, projected: bool = True, keep_keys: dict | None = None) -> Edit:
        """One edit for `facts` (in the weights on return). `projected`: confined to the null space
        of ordinary keys and of `keep_keys` ({layer: [d_mlp, m]}); else plain MEMIT."""
        return apply_memit(self.lm, self.hp, [Request.from_fact(f) for f in facts], self.stats(), facts,
                           projectors=self.projectors() if projected else None,
                           keep_keys=keep_keys if projected else None)
