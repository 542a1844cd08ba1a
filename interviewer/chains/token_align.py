"""Token alignment between texts (BERTScore-style), vectorised over many texts at once.

A sentence vector averages a sentence's tokens, so two claims that share most words ("IoU divides
by the union" / "IoU divides by the ground-truth area") land close together, and a terse sentence
that makes three points matches each point only a third as well. Aligning contextual token
vectors one by one (each token finds its most similar token on the other side, weighted by how
rare the token is) keeps both distinctions. The transformer pass that gives the sentence vectors
gives the token vectors too, so this costs one matrix product per comparison, not a model run.

Texts are packed into `Segments` (one matrix of token vectors plus where each text starts), so
comparing every answer sentence with every target sentence is a single product and a few
segment-wise reductions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segments:
    vecs: np.ndarray  # (n tokens, dim) float32, unit length
    weights: np.ndarray  # (n tokens,) idf weights
    starts: np.ndarray  # (k texts,) offset of each text's first token; every text has >= 1 token

    @classmethod
    def pack(cls, parts: list[tuple[np.ndarray, np.ndarray]]) -> "Segments":
        """Pack (token vectors, weights) pairs; each part must hold at least one token."""
        if not parts:
            return cls(np.zeros((0, 0), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))
        lengths = [len(w) for _, w in parts]
        starts = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64)
        return cls(np.vstack([v for v, _ in parts]).astype(np.float32), np.concatenate([w for _, w in parts]).astype(np.float32), starts)

    def __len__(self) -> int:
        return len(self.starts)

    def totals(self) -> np.ndarray:
        return np.maximum(np.add.reduceat(self.weights, self.starts), 1e-9)


def best_per_text(targets: Segments, answer: Segments) -> np.ndarray:
    """(target tokens, answer texts): each target token's highest similarity within each answer
    text, so a caller can choose which answer sentences may count without another product."""
    if not len(answer) or not len(targets):
        return np.zeros((len(targets.weights), len(answer)), dtype=np.float32)
    return np.maximum.reduceat(targets.vecs @ answer.vecs.T, answer.starts, axis=1)


def recall(targets: Segments, best: np.ndarray | None) -> np.ndarray:
    """For each target text: the weighted share of its tokens that found a close token on the
    other side (best: each target token's best similarity, or None when nothing may count)."""
    if best is None:
        return np.zeros(len(targets), dtype=np.float32)
    return np.add.reduceat(targets.weights * best, targets.starts) / targets.totals()


def f1(a: Segments, b: Segments) -> np.ndarray:
    """(len(a), len(b)) token-alignment F1 of every text in a against every text in b."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)), dtype=np.float32)
    sim = a.vecs @ b.vecs.T
    best_in_b = np.maximum.reduceat(sim, b.starts, axis=1)  # (a tokens, b texts)
    precision = np.add.reduceat(a.weights[:, None] * best_in_b, a.starts, axis=0) / a.totals()[:, None]
    best_in_a = np.maximum.reduceat(sim, a.starts, axis=0)  # (a texts, b tokens)
    rec = np.add.reduceat(best_in_a * b.weights[None, :], b.starts, axis=1) / b.totals()[None, :]
    return 2 * precision * rec / np.maximum(precision + rec, 1e-9)
