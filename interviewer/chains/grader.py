"""The grading chain: one interface, two implementations.

- OfflineGrader: the bundled embedding model and no LLM. Each rubric criterion is matched against
  the answer's sentence units (and adjacent pairs); a criterion's target is its own text plus the
  reference-answer sentences aligned to it. Similarity only counts above a per-criterion null
  level: how similar that criterion's targets are to sentences from *other* bank questions. That
  makes generic criteria ("mentions a metric") as hard to earn by accident as specific ones, and
  makes off-topic text and padding earn nothing. Max pooling over units means padding dilutes
  nothing; list-like units (keyword stuffing) are capped; injected instructions are removed first.
  Token alignment (chains/token_align.py) adds what sentence vectors miss: the recall of each
  criterion's tokens (terse answers), and whether a sentence is closer to one of the question's
  known wrong claims than to any right statement (confidently wrong answers).
- LLMGrader: per-criterion verdicts in structured output through any OpenAI-compatible endpoint,
  evidence verified verbatim, the score computed only from the verdicts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from interviewer.chains import token_align
from interviewer.chains.answer_text import content_words, denies, neutralise, split_sentences, units, windows
from interviewer.chains.token_align import Segments
from interviewer.schema import CriterionGrade, Grade, Question, TestReport

MAX_ANSWER_CHARS = 20_000  # about 3,000 words: longer answers are graded on their start, said plainly
MEMO_MAX = 5_000  # units kept between grades, with their token vectors (about 20 KB each, 100 MB at most)
WRONG_NOTICE_SHARE = 2 / 3  # of claim-making sentences closer to a known wrong claim: then say so
BACKGROUND_MAX = 700  # sentences from other questions that define each criterion's null level


class Grader(Protocol):
    name: str

    def grade(self, question: Question, answer: str, tests: TestReport | None = None) -> Grade: ...


# ------------------------------------------------------------------------------------------
# offline


@dataclass
class OfflineParams:
    """The offline grader's fixed global constants. The credit weights themselves are fitted on the
    eval suites as a whole, never per question (scripts/fit_offline_grader.py)."""

    null_percentile: float = 97.0  # the null level: this percentile of off-question similarity
    span: float = 0.42  # without fitted weights: share of the way from the null level to 1.0 for full credit
    criterion_bonus: float = 0.03  # criterion texts are phrased as instructions, refs as content


@dataclass
class _Targets:
    crit_vecs: np.ndarray
    ref_units: list[str]
    ref_vecs: np.ndarray
    assign: list[list[int]]  # criterion index -> reference unit indices
    null: np.ndarray  # per-criterion null level
    rel_vecs: np.ndarray
    rel_null: float
    key_terms: list[set[str]]
    crit_toks: Segments | None = None  # token vectors of each criterion, for token alignment
    ref_toks: Segments | None = None  # ... of each reference unit
    truth_toks: Segments | None = None  # criteria and reference units together: the correct statements
    mis_vecs: np.ndarray | None = None  # the question's known wrong claims (misconceptions)
    mis_toks: Segments | None = None


class OfflineGrader:
    name = "offline"

    def __init__(self, embedder=None, params: OfflineParams | None = None, background: list[str] | None = None, bank=None):
        self._embedder = embedder
        self.bank = bank
        self.params = params or OfflineParams()
        self._background_texts = background
        self._background: np.ndarray | None = None
        self._bg_owner: list[str] = []
        self._cache: dict[str, _Targets] = {}
        self._lock = threading.Lock()
        self._bg_lock = threading.Lock()
        self._memo: dict[str, tuple] = {}  # unit text -> (mean token vector, token count, Tokens)
        self._idf = np.ones(1, dtype=np.float32)  # wordpiece id -> idf (see _fit_idf)
        self._memo_lock = threading.Lock()

    @property
    def embedder(self):
        if self._embedder is None:
            from interviewer.embedding import get_embedder

            self._embedder = get_embedder()
        return self._embedder

    # -- background: sentences of other questions, the null distribution -------------------
    def _ensure_background(self) -> None:
        with self._bg_lock:  # the TUI warms it in a worker while a grade may ask for it too
            self._ensure_background_locked()

    def _ensure_background_locked(self) -> None:
        if self._background is not None:
            return
        texts, owners = [], []
        if self._background_texts is not None:
            texts = list(self._background_texts)
            owners = [""] * len(texts)
        else:
            from interviewer.bank import load_bank

            bank = self.bank if self.bank is not None else load_bank()
            docs = []
            for q in bank.questions.values():
                if q.round == "coding":
                    continue
                docs.append(q.reference_answer + " " + " ".join(c.criterion for c in q.rubric))
                for s in split_sentences(q.reference_answer):
                    if len(s.split()) >= 5:
                        texts.append(s)
                        owners.append(q.id)
        if len(texts) > BACKGROUND_MAX:
            # A deterministic spread over the bank is plenty for a 97th percentile.
            step = len(texts) / BACKGROUND_MAX
            keep = [int(i * step) for i in range(BACKGROUND_MAX)]
            texts, owners = [texts[i] for i in keep], [owners[i] for i in keep]
        self._bg_owner = owners
        self._fit_idf(docs if self._background_texts is None else texts)
        if texts:
            from interviewer.embedding import encode_cached

            self._background = encode_cached(self.embedder, texts, "background")
        else:
            self._background = np.zeros((0, 384), dtype=np.float32)

    def _fit_idf(self, docs: list[str]) -> None:
        """Inverse document frequency of wordpieces over the bank's questions: in token alignment
        a criterion's rare terms ("dropout", "inverted") count, its glue words ("the") do not."""
        df = np.zeros(self.embedder.tokenizer.get_vocab_size(), dtype=np.float32)
        for enc in self.embedder.tokenizer.encode_batch(docs):
            df[np.unique(np.asarray(enc.ids, dtype=np.int64))] += 1
        self._idf = np.log((len(docs) + 1) / (df + 1)).astype(np.float32)

    def _pack(self, toks: list, given: np.ndarray | None = None) -> Segments:
        """Token vectors of texts (embedding.Tokens) with their idf weights; texts without a
        single token are given one zero vector, so indices still line up. Tokens in `given`
        (the question's own words) weigh nothing: repeating the question proves nothing."""
        parts = []
        for x in toks:
            if not len(x.ids):
                parts.append((np.zeros((1, 384), np.float32), np.zeros(1, np.float32)))
                continue
            w = self._idf[x.ids]
            if given is not None:
                w = np.where(np.isin(x.ids, given), 0.0, w).astype(np.float32)
            parts.append((x.vecs.astype(np.float32), w))
        return Segments.pack(parts)

    def warm(self) -> None:
        self._ensure_background()

    def _targets(self, q: Question) -> _Targets:
        from interviewer.bank import bank_fingerprint

        key = q.id + ":" + bank_fingerprint(q)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        self._ensure_background()
        p = self.params
        crit_texts = [c.criterion for c in q.rubric]
        ref_units = [s for s in split_sentences(q.reference_answer) if len(s.split()) >= 3] or [q.reference_answer]
        from interviewer.embedding import normalise

        means, _, toks = self.embedder.encode_tokens(crit_texts + ref_units + [q.prompt] + q.misconceptions)
        vecs = normalise(means)
        nc, nr = len(crit_texts), len(ref_units)  # then the prompt at nc + nr, then misconceptions
        crit_vecs, ref_vecs, prompt_vec, mis_vecs = vecs[:nc], vecs[nc : nc + nr], vecs[nc + nr : nc + nr + 1], vecs[nc + nr + 1 :]
        asked = toks[nc + nr].ids
        crit_toks = self._pack(toks[:nc], given=asked)
        ref_toks = self._pack(toks[nc : nc + nr], given=asked)
        truth_toks = self._pack(toks[: nc + nr])
        mis_toks = self._pack(toks[nc + nr + 1 :]) if q.misconceptions else None
        if not q.misconceptions:
            mis_vecs = None
        # Align reference sentences to criteria: each sentence to its best criterion, and every
        # criterion keeps at least its single best sentence.
        sim = ref_vecs @ crit_vecs.T  # (R, C)
        assign: list[list[int]] = [[] for _ in crit_texts]
        for r, c in enumerate(sim.argmax(axis=1)):
            assign[c].append(r)
        for c in range(len(crit_texts)):
            best = int(sim[:, c].argmax())
            if best not in assign[c]:
                assign[c].append(best)
        bg = self._background
        mask = np.array([o != q.id for o in self._bg_owner], dtype=bool) if len(self._bg_owner) else None
        if bg is not None and len(bg) and mask is not None:
            bg = bg[mask]
        null = np.zeros(len(crit_texts), dtype=np.float32)
        if bg is not None and len(bg) >= 20:
            for c in range(len(crit_texts)):
                s = np.maximum(bg @ crit_vecs[c] + p.criterion_bonus, (bg @ ref_vecs[assign[c]].T).max(axis=1))
                null[c] = np.percentile(s, p.null_percentile)
        else:
            null[:] = 0.35
        rel_vecs = np.vstack([prompt_vec, ref_vecs])
        rel_null = float(np.percentile((bg @ rel_vecs.T).max(axis=1), p.null_percentile)) if bg is not None and len(bg) >= 20 else 0.35
        key_terms = []
        for c, crit in enumerate(q.rubric):
            terms = set(content_words(crit.criterion))
            for r in assign[c]:
                terms |= set(content_words(ref_units[r]))
            key_terms.append(terms)
        t = _Targets(crit_vecs, ref_units, ref_vecs, assign, null, rel_vecs, rel_null, key_terms, crit_toks, ref_toks, truth_toks, mis_vecs, mis_toks)
        with self._lock:
            self._cache[key] = t
        return t

    def features(self, question: Question, answer: str) -> tuple[list[dict], dict]:
        """Per-criterion features of an answer (what the credit model reads), plus context."""
        clean, removed = neutralise(answer)
        us = units(clean)
        ctx = {"removed": removed, "units": us}
        if not us:
            return [], ctx
        t = self._targets(question)
        p = self.params
        wins = windows(us)
        wvecs, toks = self._window_vectors([u.text for u in us], wins)
        listlike_idx = {u.index for u in us if u.listlike}
        is_list = np.array([any(j in listlike_idx for j in idx) for idx in wins])
        rel_best = float((wvecs @ t.rel_vecs.T).max())
        relevance = float(np.clip((rel_best - t.rel_null) / max(1e-6, 1.0 - t.rel_null), -1.0, 1.0))
        answer_terms = set(content_words(" ".join(u.text for u in us if not u.listlike)))
        n_words = sum(u.n_words for u in us)
        list_frac = sum(u.n_words for u in us if u.listlike) / max(1, n_words)
        feats = []
        prose = ~is_list
        # Every window against every criterion, for how distinctly the best window makes this point.
        zall = np.stack([self._z(wvecs, t, c) for c in range(len(question.rubric))], axis=1)  # (W, C)
        # Token alignment for a criterion runs over the prose sentences that are about it at all
        # (above its null level as a whole sentence): a bare list of the right terms must not earn
        # it, and neither may padding, where every extra token is one more chance of a match.
        prose_units = [u.index for u in us if not u.listlike and len(toks[u.index].ids)]
        said = Segments.pack([(toks[i].vecs.astype(np.float32), np.ones(len(toks[i].ids), np.float32)) for i in prose_units])
        crit_best = token_align.best_per_text(t.crit_toks, said)  # (criterion tokens, prose units)
        ref_best = token_align.best_per_text(t.ref_toks, said)
        for c in range(len(question.rubric)):
            s_crit = wvecs @ t.crit_vecs[c] + p.criterion_bonus
            s_ref = (wvecs @ t.ref_vecs[t.assign[c]].T).max(axis=1)
            s = np.maximum(s_crit, s_ref)
            null = float(t.null[c])
            z = (s - null) / max(1e-6, 1.0 - null)
            zc = (s_crit - null) / max(1e-6, 1.0 - null)
            zr = (s_ref - null) / max(1e-6, 1.0 - null)
            best_prose = int(np.argmax(np.where(prose, z, -9))) if prose.any() else int(np.argmax(z))
            others = np.delete(zall[best_prose], c)
            terms = t.key_terms[c]
            lexical = len(terms & answer_terms) / len(terms) if terms else 0.0
            near = [k for k, i in enumerate(prose_units) if zall[i, c] > 0]
            tok_crit = float(token_align.recall(t.crit_toks, crit_best[:, near].max(axis=1) if near else None)[c])
            tok_ref = float(token_align.recall(t.ref_toks, ref_best[:, near].max(axis=1) if near else None)[t.assign[c]].max())
            feats.append(
                {
                    "z": float(np.clip(z[best_prose], -1, 1)) if prose.any() else -1.0,
                    "z_ref": float(np.clip(zr[prose].max(), -1, 1)) if prose.any() else -1.0,
                    "z_crit": float(np.clip(zc[prose].max(), -1, 1)) if prose.any() else -1.0,
                    "z_list": float(np.clip(z[is_list].max(), -1, 1)) if is_list.any() else -1.0,
                    "distinct": float(np.clip(z[best_prose] - (others.mean() if len(others) else 0.0), -1, 1)),
                    "lexical": lexical,
                    "tok_crit": tok_crit,
                    "tok_ref": tok_ref,
                    "relevance": relevance,
                    "list_frac": list_frac,
                    "log_words": float(np.log1p(n_words) / 6.0),
                    "_best": _best_unit(us, wins[best_prose], z),
                }
            )
        wrong_share, wrong_lean, ctx["wrong_claims"] = self._wrong_claims(us, wvecs[: len(us)], toks, t, zall[: len(us)].max(axis=1) > 0)
        mean_z = float(np.mean([f["z"] for f in feats]))
        for f in feats:
            f["answer_z"] = mean_z
            f["wrong_share"] = wrong_share
            f["wrong_lean"] = wrong_lean
        ctx["relevance"] = relevance
        return feats, ctx

    def _wrong_claims(self, us, uvecs: np.ndarray, toks: list, t: _Targets, on_point: np.ndarray) -> tuple[float, float, list[tuple[str, int]]]:
        """How much of the answer states the question's known wrong claims: the share of its
        on-topic sentences that match some misconception better than any correct statement of
        the question (reference sentences and criteria), the mean margin, and those sentences
        with the misconception each one matches (for the feedback).

        The match is token alignment (BERTScore F1), not sentence vectors: "IoU divides by the
        union" and "IoU divides by the ground-truth area" are near neighbours as sentence
        vectors, but the aligned tokens differ exactly where the claims do. Sentences that deny
        something are left out (an embedding cannot tell "X" from "X is a myth")."""
        if t.mis_toks is None:
            return 0.0, 0.0, []
        asserting = [i for i, u in enumerate(us) if not u.listlike and not denies(u.text)]
        if not asserting:
            return 0.0, 0.0, []
        uv = uvecs[asserting]
        near = np.maximum((uv @ t.mis_vecs.T).max(axis=1), (uv @ t.rel_vecs.T).max(axis=1))
        topical = [i for i, ok in zip(asserting, near > t.rel_null) if ok]
        if not topical:
            return 0.0, 0.0, []
        said = self._pack([toks[us[i].index] for i in topical])
        to_wrong = token_align.f1(said, t.mis_toks)
        margins = to_wrong.max(axis=1) - token_align.f1(said, t.truth_toks).max(axis=1)
        stated = [(us[i].text, int(to_wrong[k].argmax())) for k, i in enumerate(topical) if margins[k] > 0]
        # The share is taken over the sentences that make a claim, right (above some criterion's
        # null level) or wrong: on-topic chatter around a wrong answer must not dilute it.
        claims = (margins > 0) | on_point[topical]
        if not claims.any():
            return 0.0, 0.0, []
        return float(np.mean(margins[claims] > 0)), float(np.mean(margins[claims])), stated

    def _z(self, wvecs: np.ndarray, t: _Targets, c: int) -> np.ndarray:
        s = np.maximum(wvecs @ t.crit_vecs[c] + self.params.criterion_bonus, (wvecs @ t.ref_vecs[t.assign[c]].T).max(axis=1))
        return (s - t.null[c]) / max(1e-6, 1.0 - float(t.null[c]))

    def prefetch(self, answers: list[str]) -> None:
        """Embed the units of many answers in one bulk pass (an eval run): big batches of
        similar length waste far less than one small batch per answer."""
        texts = []
        for a in answers:
            texts += [u.text for u in units(neutralise(a[:MAX_ANSWER_CHARS])[0])]
        self._unit_encodings(list(dict.fromkeys(texts)))

    def _unit_encodings(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list]:
        if not texts:
            return self.embedder.encode_tokens([])
        with self._memo_lock:
            todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            means, counts, toks = self.embedder.encode_tokens(todo)
            with self._memo_lock:
                if len(self._memo) + len(todo) > MEMO_MAX:
                    self._memo.clear()  # a bound, not a policy: hits come from one answer or one run
                self._memo.update({t: e for t, e in zip(todo, zip(means, counts, toks))})
        with self._memo_lock:
            got = [self._memo.get(t) for t in texts]
        if any(g is None for g in got):  # cleared by another thread meanwhile: encode directly
            return self.embedder.encode_tokens(texts)
        return np.stack([g[0] for g in got]), np.array([g[1] for g in got], dtype=np.float32), [g[2] for g in got]

    def _window_vectors(self, texts: list[str], wins: list[list[int]]) -> tuple[np.ndarray, list]:
        """One transformer pass over the units; a pair window is the token-weighted mean of its
        two units' token vectors (mean pooling over the joined span, without cross-attention).
        Also returns each unit's token vectors, for token alignment."""
        from interviewer.embedding import normalise

        means, counts, toks = self._unit_encodings(texts)
        sums = means * counts[:, None]
        pooled = np.stack([sums[idx].sum(axis=0) / max(1.0, float(counts[idx].sum())) for idx in wins])
        return normalise(pooled), toks

    def credit(self, f: dict) -> float:
        w = _credit_weights()
        if w:
            x = sum(w["coef"].get(k, 0.0) * f[k] for k in w["features"]) + w["intercept"]
            return float(1.0 / (1.0 + np.exp(-x)))
        p = self.params
        return float(np.clip(f["z"] / p.span, 0.0, 1.0))

    def grade(self, question: Question, answer: str, tests: TestReport | None = None) -> Grade:
        notices: list[str] = []
        if len(answer) > MAX_ANSWER_CHARS:
            answer = answer[:MAX_ANSWER_CHARS]
            notices.append(f"the answer is very long; only its first {MAX_ANSWER_CHARS:,} characters were graded")
        if question.round == "coding":
            return self._grade_code(question, answer, tests, notices)
        feats, ctx = self.features(question, answer)
        if ctx["removed"]:
            notices.append(f"ignored {len(ctx['removed'])} sentence(s) addressed to the grader")
        if not feats:
            return _empty_grade(question, "offline", notices, "No answer was given.")
        crit_grades = []
        for crit, f in zip(question.rubric, feats):
            credit = self.credit(f)
            if f["relevance"] <= 0:
                credit = 0.0  # nothing in the answer is about this question
            awarded = _halves(credit * crit.points)
            crit_grades.append(
                CriterionGrade(
                    id=crit.id,
                    awarded=awarded,
                    points=crit.points,
                    feedback=_offline_feedback(awarded, crit),
                    evidence=[f["_best"]] if awarded > 0 else [],
                )
            )
        # Name the claims and the misconceptions they resemble: "check this" is actionable, a
        # silently lower score is not. One similar sentence is weak evidence (correct answers
        # share most words with the wrong claim they avoid), so only when most of the answer's
        # claims lean wrong; worded as a check, since the match is by similarity.
        lean_wrong = bool(feats) and feats[0]["wrong_share"] >= WRONG_NOTICE_SHARE
        for text, m in ctx.get("wrong_claims", [])[:3] if lean_wrong else []:
            notices.append(f'check this claim: "{_clip(text)}" reads like a common misconception ("{question.misconceptions[m]}")')
        return _finish(question, crit_grades, "offline", None, None, notices, ctx.get("relevance"))

    # -- coding ----------------------------------------------------------------------------
    def _grade_code(self, q: Question, code: str, tests: TestReport | None, notices: list[str]) -> Grade:
        if not code.strip():
            return _empty_grade(q, "offline", notices, "No code was submitted.")
        tests = hidden_tests(q, code, tests)
        rate = tests.pass_rate
        crit_grades = []
        for crit in q.rubric:
            if crit.id == "correctness" or "test" in crit.criterion.lower() or "correct result" in crit.criterion.lower():
                credit = rate
                fb = f"{tests.passed} of {tests.total} hidden tests passed" if tests.total else (tests.message or "the tests did not run")
            else:
                credit = rate * _static_check(crit.criterion, code, _entry_points(q))
                fb = _offline_feedback(_halves(credit * crit.points), crit)
            crit_grades.append(CriterionGrade(id=crit.id, awarded=_halves(credit * crit.points), points=crit.points, feedback=fb))
        g = _finish(q, crit_grades, "offline", None, None, notices, None)
        g.tests = tests
        return g


def _clip(text: str, n: int = 140) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _best_unit(us, idx: list[int], z) -> str:
    """Quote one real sentence unit (a verbatim substring), not a joined window."""
    j = max(idx, key=lambda i: z[i])  # single-unit windows come first, in unit order
    return us[j].text


@functools.lru_cache(maxsize=1)
def _credit_weights() -> dict | None:
    """The fitted credit model (scripts/fit_offline_grader.py), if present."""
    path = Path(__file__).with_name("offline_grader_weights.json")
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _static_check(criterion: str, code: str, entry_points: frozenset[str] = frozenset()) -> float:
    """Cheap, general reading of code for the non-test criteria; 1.0 means no concern found."""
    c = criterion.lower()
    loops = len(re.findall(r"^\s*for\s", code, re.M))
    nested = len(re.findall(r"^(\s{8,}|\t\t+)for\s", code, re.M))
    if any(k in c for k in ("vectori", "complexity", "efficien", "numpy", "loop")):
        uses_np = "np." in code or "numpy" in code
        return 1.0 if uses_np and nested == 0 else 0.75 if uses_np or loops <= 1 else 0.5
    if any(k in c for k in ("stab", "overflow", "underflow", "log-sum", "logsumexp")):
        return 1.0 if re.search(r"\.max\(|np\.max|logsumexp|clip|eps|1e-", code) else 0.4
    if re.search(r"\b(rejects?|raises?|valueerror|typeerror|exception)\b", c):
        # The criterion asks for an error on bad input: a guard that returns a number is not it.
        return 1.0 if re.search(r"\braise\b", code) else 0.25
    if any(k in c for k in ("edge", "empty", "zero", "validat", "degenerate")):
        return 1.0 if re.search(r"\bif\b.*(len\(|== 0|not |<= 0|is None|\.size)", code) or "raise " in code else 0.5
    if any(k in c for k in ("clear", "readab", "naming", "structure", "docstring")):
        documented = '"""' in code or "'''" in code or "#" in code
        return (1.0 if documented else 0.8) * (0.5 if _dead_code(code, entry_points) else 1.0)
    return 1.0


def _dead_code(code: str, entry_points: frozenset[str]) -> list[str]:
    """Top-level functions and imports that nothing uses: padding in code form."""
    import ast

    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    dead = [n.name for n in tree.body if isinstance(n, defs) and n.name not in used and n.name not in entry_points]
    for n in tree.body:
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            names = [a.asname or a.name.split(".")[0] for a in n.names if a.name != "*"]
            dead += [name for name in names if name not in used]
    return dead


def _entry_points(q: Question) -> frozenset[str]:
    """The names the task asks for (its starter code's definitions): never dead code."""
    import ast

    try:
        tree = ast.parse(q.starter_code or "")
    except (SyntaxError, ValueError):
        return frozenset()
    return frozenset(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))


def hidden_tests(q: Question, answer: str, tests: TestReport | None) -> TestReport | None:
    """The coding verdict: the caller's report when it has one, else one sandbox run."""
    if tests is not None or q.round != "coding" or not answer.strip():
        return tests
    from interviewer.rounds.sandbox import run_tests

    return run_tests(answer, q.tests or "")


def _halves(x: float) -> float:
    return round(x * 2) / 2


def _offline_feedback(awarded: float, crit) -> str:
    if awarded >= crit.points:
        return f"Covered: {crit.criterion}"
    if awarded > 0:
        return f"Partly covered. A full answer: {crit.criterion}"
    return f"Missing: {crit.criterion}"


def _missing_text(q: Question, crit_grades: list[CriterionGrade]) -> str:
    gaps = [c for c, g in zip(q.rubric, crit_grades) if g.awarded < c.points]
    return " ".join(c.criterion for c in gaps)


def _finish(q, crit_grades, grader, model, prompt_version, notices, relevance, feedback: str = "", missing: str | None = None) -> Grade:
    score = Grade.score_from(crit_grades)
    if not feedback:
        got = [g.id for g in crit_grades if g.awarded >= g.points]
        gaps = [g.id for g in crit_grades if g.awarded < g.points]
        feedback = f"Score {score:.1f}/10. " + (f"Strong on: {', '.join(got)}. " if got else "") + (
            f"Work on: {', '.join(gaps)}." if gaps else "Every criterion covered."
        )
    return Grade(
        question_id=q.id,
        score=score,
        criteria=crit_grades,
        feedback=feedback,
        missing=_missing_text(q, crit_grades) if missing is None else missing,
        grader=grader,
        model=model,
        prompt_version=prompt_version,
        relevance=relevance,
        notices=notices,
    )


def _empty_grade(q: Question, grader: str, notices: list[str], msg: str, model: str | None = None) -> Grade:
    crit = [CriterionGrade(id=c.id, awarded=0.0, points=c.points, feedback=f"Missing: {c.criterion}") for c in q.rubric]
    return _finish(q, crit, grader, model, None, notices, 0.0, feedback=msg)


# ------------------------------------------------------------------------------------------
# LLM


class CriterionVerdict(BaseModel):
    id: str = Field(description="the rubric criterion id")
    awarded: float = Field(description="points awarded, 0 to the criterion's points, in steps of 0.5")
    evidence: list[str] = Field(default_factory=list, description="exact quotes from the answer that earn the points")
    feedback: str = Field(default="", description="one or two sentences: what was right, what was missing")


class GradeVerdict(BaseModel):
    criteria: list[CriterionVerdict]
    overall_feedback: str = ""
    missing: str = Field(default="", description="what a full answer would have added")


def _norm_ws(s: str) -> str:
    return " ".join(s.split()).lower()


def verify_evidence(quotes: list[str], answer: str) -> tuple[list[str], list[str]]:
    """Split quotes into those found verbatim in the answer (whitespace-insensitive) and not."""
    hay = _norm_ws(answer)
    ok, bad = [], []
    for qt in quotes:
        qn = _norm_ws(qt.strip().strip('"').strip("'").strip("…").strip("..."))
        (ok if qn and qn in hay else bad).append(qt)
    return ok, bad


class LLMGrader:
    name = "llm"

    def __init__(self, llm, retriever=None, notes_budget: int = 1200):
        self.llm = llm
        self.retriever = retriever
        self.notes_budget = notes_budget

    def build_messages(self, q: Question, answer: str, tests: TestReport | None = None, notes: str = ""):
        from langchain_core.messages import HumanMessage, SystemMessage

        from interviewer.chains.prompting import load_prompt

        prompt = load_prompt("grader")
        nonce = secrets.token_hex(4)
        open_tag, close_tag = f"<answer-{nonce}>", f"</answer-{nonce}>"
        # Neutralise anything in the answer that could pose as our delimiters or markers.
        safe = re.sub(r"</?\s*answer[^>]*>", "[tag removed]", answer, flags=re.I)
        rubric = "\n".join(f"- {c.id} ({c.points:g} points): {c.criterion}" for c in q.rubric)
        test_text = ""
        if tests is not None:
            lines = [f"Hidden tests: {tests.passed} passed, {tests.failed} failed, {tests.errors} errors."]
            lines += [f"- {r.name}: {r.outcome} {r.message[:160]}" for r in tests.results[:20]]
            test_text = "\n".join(lines) + "\n(The correctness criterion is set from these results.)\n"
        user = prompt.render_user(
            round=q.round,
            level=q.level,
            question=q.prompt,
            rubric=rubric,
            reference=q.reference_answer,
            misconceptions="\n".join(f"- {m}" for m in q.misconceptions) or "(none listed)",
            notes=notes or "(none)",
            tests=test_text,
            open_tag=open_tag,
            close_tag=close_tag,
            answer=safe,
            criterion_ids=", ".join(c.id for c in q.rubric),
        )
        return [SystemMessage(content=prompt.system), HumanMessage(content=user)], prompt.version

    def _notes(self, q: Question) -> tuple[str, list[str]]:
        if self.retriever is None:
            return "", []
        try:
            chunks = self.retriever.context_for(q.prompt, topics=q.topics, budget_tokens=self.notes_budget)
        except Exception:
            return "", []
        text = "\n\n".join(f"[{c.source}] {c.text}" for c in chunks)
        return text, [c.source for c in chunks]

    def grade(self, question: Question, answer: str, tests: TestReport | None = None) -> Grade:
        notices: list[str] = []
        if len(answer) > MAX_ANSWER_CHARS:
            answer = answer[:MAX_ANSWER_CHARS]
            notices.append(f"the answer is very long; only its first {MAX_ANSWER_CHARS:,} characters were graded")
        tests = hidden_tests(question, answer, tests)
        if not answer.strip():
            return _empty_grade(question, "llm", notices, "No answer was given.", self.llm.model_name)
        notes, sources = self._notes(question)
        messages, version = self.build_messages(question, answer, tests, notes)
        with self.llm.usage.scope() as used:
            verdict = self.llm.structured(GradeVerdict, messages, purpose="grade")
        by_id = {v.id: v for v in verdict.criteria}
        crit_grades = []
        unverified = 0
        for c in question.rubric:
            v = by_id.get(c.id)
            if v is None:
                crit_grades.append(CriterionGrade(id=c.id, awarded=0.0, points=c.points, feedback="The grader returned no verdict for this criterion."))
                continue
            awarded = _halves(min(max(float(v.awarded), 0.0), c.points))
            ok, bad = verify_evidence(v.evidence, answer)
            unverified += len(bad)
            if awarded > 0 and not ok and question.round != "coding":
                awarded = _halves(awarded / 2)  # credit without a real quote is suspect: halve it
            if tests is not None and c.id == "correctness":
                awarded = _halves(tests.pass_rate * c.points)
            crit_grades.append(CriterionGrade(id=c.id, awarded=awarded, points=c.points, feedback=v.feedback, evidence=ok))
        if unverified:
            notices.append(f"dropped {unverified} evidence quote(s) not found in the answer")
        g = _finish(question, crit_grades, "llm", self.llm.model_name, version, notices, None, verdict.overall_feedback, verdict.missing)
        g.sources = sources
        g.tests = tests
        g.tokens = sum(u.input_tokens + u.output_tokens for u in used)
        return g


def answer_cache_key(grader: str, model: str | None, prompt_version: str | None, q: Question, answer: str, repeat: int) -> str:
    from interviewer.bank import bank_fingerprint

    payload = json.dumps([grader, model, prompt_version, bank_fingerprint(q), answer, repeat])
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class GradingService:
    """What the rounds and the CLI call: LLM when configured, offline otherwise or on failure."""

    offline: OfflineGrader = field(default_factory=OfflineGrader)
    online: LLMGrader | None = None

    def grade(self, question: Question, answer: str, tests: TestReport | None = None) -> Grade:
        tests = hidden_tests(question, answer, tests)
        if self.online is None:
            return self.offline.grade(question, answer, tests)
        from interviewer.llm import run_with_fallback

        notices: list[str] = []
        grade = run_with_fallback(
            lambda: self.online.grade(question, answer, tests), lambda: self.offline.grade(question, answer, tests), notices
        )
        grade.notices.extend(notices)
        return grade
