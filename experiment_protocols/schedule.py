"""The trial list of a session: randomised with a recorded seed and counterbalanced.

Rules (all tested):

- deterministic: the same protocol, stimuli, participant, session and seed give the same list;
- every selected image appears once under every condition of every block;
- the same image is never shown twice in a row (within or across blocks) when avoidable;
- the block order rotates with the participant number (two blocks: A-B for odd numbers,
  B-A for even ones) when ``block_order = "counterbalanced"``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence

import numpy as np

from experiment_protocols.model import Protocol

__all__ = [
    "PlannedTrial",
    "Schedule",
    "StimulusRef",
    "build_schedule",
    "derive_seed",
    "participant_number",
]


@dataclasses.dataclass(frozen=True)
class StimulusRef:
    """What the schedule needs to know of one image (a manifest entry)."""

    image_id: str
    path: str
    authenticity: str = ""
    findings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class PlannedTrial:
    """One trial of the schedule (``index`` is its 0-based position and its store id)."""

    index: int
    block: str
    block_index: int
    condition: str
    image_id: str
    image_path: str
    authenticity: str
    findings: tuple[str, ...]

    def to_row(self) -> dict[str, object]:
        """Columns of the store's ``trials`` table."""
        return {
            "id": self.index,
            "block": self.block,
            "condition": self.condition,
            "image_id": self.image_id,
            "image_path": self.image_path,
            "authenticity": self.authenticity,
            "findings": ";".join(self.findings),
        }


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The ordered trials and how they were drawn."""

    trials: tuple[PlannedTrial, ...]
    seed: int
    block_order: tuple[str, ...]
    participant_number: int

    def __len__(self) -> int:
        return len(self.trials)


def participant_number(participant: str) -> int:
    """The number used for counterbalancing: the last run of digits in the ID.

    IDs without digits get a stable number from their hash, so counterbalancing still alternates
    across participants on average (and is reproducible).
    """
    digits = re.findall(r"\d+", participant)
    if digits:
        return int(digits[-1])
    return int.from_bytes(hashlib.sha256(participant.encode()).digest()[:4], "big")


def derive_seed(study: str, participant: str, session: int) -> int:
    """A reproducible 31-bit seed from study, participant and session number."""
    h = hashlib.sha256(f"{study}\x1f{participant}\x1f{session}".encode()).digest()
    return int.from_bytes(h[:4], "big") & 0x7FFFFFFF


def _avoid_repeats(
    items: list[tuple[int, str]], rng: np.random.Generator, previous: int | None
) -> list[tuple[int, str]]:
    """Reorder ``(image, condition)`` items so no image follows itself (also after ``previous``).

    A greedy repair: walk the list, and when an item repeats the previous image, swap in the
    first later item that does not (and does not break the next one). Deterministic given rng.
    """
    out = list(items)
    for i in range(len(out)):
        prev = out[i - 1][0] if i > 0 else previous
        if prev is None or out[i][0] != prev:
            continue
        candidates = [j for j in range(i + 1, len(out)) if out[j][0] != prev]
        if not candidates:
            # Nothing later fits: move this item to an earlier place between two other images.
            item = out.pop(i)
            for p in range(i):
                before = out[p - 1][0] if p > 0 else previous
                if before != item[0] and out[p][0] != item[0]:
                    out.insert(p, item)
                    break
            else:
                out.insert(i, item)  # unavoidable (e.g. one image under two conditions)
            continue
        j = candidates[int(rng.integers(len(candidates)))] if len(candidates) > 1 else candidates[0]
        out[i], out[j] = out[j], out[i]
    return out


def build_schedule(
    protocol: Protocol,
    stimuli: Sequence[StimulusRef],
    participant: str,
    session: int = 1,
    seed: int | None = None,
) -> Schedule:
    """Draw the trial list of one session.

    Parameters
    ----------
    protocol : Protocol
    stimuli : sequence of StimulusRef
        The manifest entries, in manifest order.
    participant : str
        Participant ID; its number (see :func:`participant_number`) sets the block order.
    session : int
        Session number (part of the derived seed).
    seed : int, optional
        Overrides the protocol's seed; by default the protocol's, else derived.

    Returns
    -------
    Schedule
    """
    if not stimuli:
        raise ValueError("the stimulus set is empty: the manifest lists no images")
    ids = [s.image_id for s in stimuli]
    if len(set(ids)) != len(ids):
        raise ValueError(
            f"duplicate image ids in the stimulus set: {sorted({i for i in ids if ids.count(i) > 1})}"
        )
    rnd = protocol.randomisation
    if seed is None:
        seed = (
            rnd.seed if rnd.seed is not None else derive_seed(protocol.study, participant, session)
        )
    rng = np.random.default_rng(seed)
    pnum = participant_number(participant)

    blocks = list(protocol.blocks)
    if rnd.block_order == "counterbalanced" and len(blocks) > 1:
        # Participant 1 -> file order, 2 -> rotated by one, ... (a Latin-square rotation).
        k = (pnum - 1) % len(blocks)
        blocks = blocks[k:] + blocks[:k]

    # One image subset for the whole session, so every selected image is read in every block.
    order = rng.permutation(len(stimuli)) if rnd.shuffle else np.arange(len(stimuli))
    trials: list[PlannedTrial] = []
    previous: int | None = None
    for block in blocks:
        n = len(stimuli) if block.n_images is None else min(block.n_images, len(stimuli))
        chosen = sorted(int(i) for i in order[:n])
        items = [(img, cond) for cond in block.conditions for img in chosen]
        if rnd.shuffle:
            items = [items[int(i)] for i in rng.permutation(len(items))]
        items = _avoid_repeats(items, rng, previous)
        for img, cond in items:
            s = stimuli[img]
            trials.append(
                PlannedTrial(
                    index=len(trials),
                    block=block.name,
                    block_index=protocol.blocks.index(block),
                    condition=cond,
                    image_id=s.image_id,
                    image_path=s.path,
                    authenticity=s.authenticity,
                    findings=tuple(s.findings),
                )
            )
        previous = items[-1][0] if items else previous
    return Schedule(tuple(trials), int(seed), tuple(b.name for b in blocks), pnum)
