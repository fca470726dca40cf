"""A growable window of per-sample rows (one float64 2D block) addressed by running index."""

from __future__ import annotations

import numpy as np

__all__ = ["History"]


class History:
    """Rows of ``width`` float64 columns kept from running index :attr:`base` to :attr:`stop`.

    Appends are amortised O(rows): the block grows by doubling, and old rows dropped by
    :meth:`trim` are reclaimed by moving the kept rows to the front when space runs out.
    """

    def __init__(self, width: int, capacity: int = 4096) -> None:
        self._buf = np.empty((capacity, width))
        self._lo = 0  # slot of running index `base`
        self._n = 0
        self.base = 0

    @property
    def stop(self) -> int:
        """Running index one past the newest row."""
        return self.base + self._n

    def __len__(self) -> int:
        return self._n

    @property
    def rows(self) -> np.ndarray:
        """View of the kept rows, shape ``(len, width)`` (valid until the next append)."""
        return self._buf[self._lo : self._lo + self._n]

    def append(self, block: np.ndarray) -> None:
        """Append rows (shape ``(m, width)``)."""
        m = len(block)
        if self._lo + self._n + m > len(self._buf):
            self._make_room(m)
        a = self._lo + self._n
        self._buf[a : a + m] = block
        self._n += m

    def grow(self, m: int) -> np.ndarray:
        """Append ``m`` uninitialised rows (to fill in place); return :attr:`rows`."""
        if self._lo + self._n + m > len(self._buf):
            self._make_room(m)
        self._n += m
        return self._buf[self._lo : self._lo + self._n]

    def trim(self, keep_from: int) -> None:
        """Forget rows with running index below ``keep_from``."""
        drop = min(max(0, keep_from - self.base), self._n)
        self._lo += drop
        self._n -= drop
        self.base += drop

    def _make_room(self, extra: int) -> None:
        need = self._n + extra
        cap = len(self._buf)
        while cap < 2 * need:
            cap *= 2
        new = np.empty((cap, self._buf.shape[1])) if cap != len(self._buf) else self._buf
        new[: self._n] = self._buf[self._lo : self._lo + self._n]
        self._buf = new
        self._lo = 0


class ColumnHistory:
    """As :class:`History`, but stored column by column: each column is contiguous.

    :attr:`cols` has shape ``(width, len)``; ``cols[k]`` is a contiguous 1-D view, which is
    what ``searchsorted``, gathers and reductions over one quantity want.
    """

    def __init__(self, width: int, capacity: int = 4096) -> None:
        self._buf = np.empty((width, capacity))
        self._lo = 0  # slot of running index `base`
        self._n = 0
        self.base = 0

    @property
    def stop(self) -> int:
        """Running index one past the newest row."""
        return self.base + self._n

    def __len__(self) -> int:
        return self._n

    @property
    def cols(self) -> np.ndarray:
        """View of the kept rows, shape ``(width, len)`` (valid until the next extend)."""
        return self._buf[:, self._lo : self._lo + self._n]

    def grow(self, m: int) -> np.ndarray:
        """Append ``m`` uninitialised rows (to fill in place); return :attr:`cols`."""
        if self._lo + self._n + m > self._buf.shape[1]:
            need = self._n + m
            cap = self._buf.shape[1]
            while cap < 2 * need:
                cap *= 2
            new = np.empty((self._buf.shape[0], cap)) if cap != self._buf.shape[1] else self._buf
            new[:, : self._n] = self._buf[:, self._lo : self._lo + self._n]
            self._buf = new
            self._lo = 0
        self._n += m
        return self._buf[:, self._lo : self._lo + self._n]

    def trim(self, keep_from: int) -> None:
        """Forget rows with running index below ``keep_from``."""
        drop = min(max(0, keep_from - self.base), self._n)
        self._lo += drop
        self._n -= drop
        self.base += drop
