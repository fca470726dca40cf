"""Growable windows of per-sample values (one float64 2D block) addressed by running index.

:class:`History` keeps samples as rows (``(len, width)``), :class:`ColumnHistory` as columns
(``(width, len)``, each quantity contiguous). Both share the bookkeeping in :class:`_Window`:
appends are amortised O(samples): the block grows by doubling, and samples dropped by
:meth:`_Window.trim` are reclaimed by moving the kept ones to the front when space runs out.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ColumnHistory", "History"]


class _Window:
    """Running-index bookkeeping over a 2D block whose sample axis is :attr:`_axis`."""

    _axis = 0

    def __init__(self, width: int, capacity: int = 4096) -> None:
        shape = (capacity, width) if self._axis == 0 else (width, capacity)
        self._buf = np.empty(shape)
        self._lo = 0  # slot of running index `base`
        self._n = 0
        self.base = 0

    @property
    def stop(self) -> int:
        """Running index one past the newest sample."""
        return self.base + self._n

    def __len__(self) -> int:
        return self._n

    def _kept(self) -> np.ndarray:
        """View of the kept samples (valid until the next append)."""
        if self._axis == 0:
            return self._buf[self._lo : self._lo + self._n]
        return self._buf[:, self._lo : self._lo + self._n]

    def _reserve(self, extra: int) -> int:
        """Make room for ``extra`` more samples; return the slot the first one goes to."""
        cap = self._buf.shape[self._axis]
        if self._lo + self._n + extra > cap:
            need = self._n + extra
            new_cap = cap
            while new_cap < 2 * need:
                new_cap *= 2
            if new_cap == cap:
                new = self._buf
            else:
                width = self._buf.shape[1 - self._axis]
                new = np.empty((new_cap, width) if self._axis == 0 else (width, new_cap))
            if self._axis == 0:
                new[: self._n] = self._buf[self._lo : self._lo + self._n]
            else:
                new[:, : self._n] = self._buf[:, self._lo : self._lo + self._n]
            self._buf = new
            self._lo = 0
        return self._lo + self._n

    def trim(self, keep_from: int) -> None:
        """Forget samples with running index below ``keep_from``."""
        drop = min(max(0, keep_from - self.base), self._n)
        self._lo += drop
        self._n -= drop
        self.base += drop


class History(_Window):
    """Samples as rows of ``width`` float64 columns, running index :attr:`base` to :attr:`stop`."""

    _axis = 0

    @property
    def rows(self) -> np.ndarray:
        """View of the kept rows, shape ``(len, width)`` (valid until the next append)."""
        return self._kept()

    def append(self, block: np.ndarray) -> None:
        """Append rows (shape ``(m, width)``)."""
        m = len(block)
        a = self._reserve(m)
        self._buf[a : a + m] = block
        self._n += m

    def grow(self, m: int) -> np.ndarray:
        """Append ``m`` uninitialised rows (to fill in place); return :attr:`rows`."""
        self._reserve(m)
        self._n += m
        return self._kept()


class ColumnHistory(_Window):
    """As :class:`History`, but stored column by column: each column is contiguous.

    :attr:`cols` has shape ``(width, len)``; ``cols[k]`` is a contiguous 1-D view, which is
    what ``searchsorted``, gathers and reductions over one quantity want.
    """

    _axis = 1

    @property
    def cols(self) -> np.ndarray:
        """View of the kept samples, shape ``(width, len)`` (valid until the next extend)."""
        return self._kept()

    def grow(self, m: int) -> np.ndarray:
        """Append ``m`` uninitialised samples (to fill in place); return :attr:`cols`."""
        self._reserve(m)
        self._n += m
        return self._kept()
