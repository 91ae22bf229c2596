import json

import numpy as np
import pytest

from bot.evaluate.runner import engine_options
from bot.evaluate.train import fit_listwise, fit_logistic, keep_threshold, top1_accuracy


def test_listwise_fit_learns_which_feature_marks_the_gold_span():
    rng = np.random.default_rng(1)
    groups = []
    for _ in range(60):
        f = np.column_stack([np.ones(8), rng.normal(size=8), rng.normal(size=8)])
        gold = int(np.argmax(f[:, 2] + 0.1 * rng.normal(size=8)))
        y = np.zeros(8)
        y[gold] = 1.0
        groups.append((f, y))
    w = fit_listwise(groups, iters=150)
    assert w[2] > abs(w[1])
    assert top1_accuracy(groups, w) > 0.8
    assert top1_accuracy(groups, np.array([0.0, 1.0, 0.0])) < 0.5


def test_listwise_fit_with_the_sentence_term_prefers_the_gold_sentence():
    """Column 1 marks the spans of the gold-answer sentence, column 2 is a noisy gold marker;
    the right-sentence term must raise the weight of column 1."""
    rng = np.random.default_rng(3)
    groups = []
    for _ in range(60):
        sent = np.r_[np.ones(4), np.zeros(4)]
        gold = np.zeros(8)
        gold[int(rng.integers(4))] = 1.0
        f = np.column_stack([np.ones(8), sent, gold + rng.normal(scale=1.5, size=8)])
        groups.append((f, gold, sent))
    plain = fit_listwise(groups, iters=150)
    both = fit_listwise(groups, iters=150, sentence_weight=2.0)
    assert both[1] > plain[1] > 0
    assert top1_accuracy(groups, both) > 0.25


def test_logistic_fit_separates_classes():
    rng = np.random.default_rng(2)
    x1 = rng.normal(loc=1.0, size=(100, 1))
    x0 = rng.normal(loc=-1.0, size=(100, 1))
    x = np.column_stack([np.ones(200), np.vstack([x1, x0])])
    y = np.r_[np.ones(100), np.zeros(100)]
    w = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(x @ w)))
    assert w[1] > 0
    assert ((p > 0.5) == (y == 1)).mean() > 0.8


# --- the threshold train.py writes must mean in `citebot eval` what --keep-answered says ---

_IN = [  # indexed article: (paragraph, question, answer)
    (
        "Port Varn is a fishing town on the northern coast of Lorimar.",
        "Where is Port Varn?",
        "Lorimar",
    ),
    (
        "The harbour of Port Varn was dredged in 1887 by the council.",
        "When was the harbour of Port Varn dredged?",
        "1887",
    ),
    (
        "The lighthouse of Port Varn was designed by Tomas Albrecht.",
        "Who designed the lighthouse of Port Varn?",
        "Tomas Albrecht",
    ),
    (
        "The fish market of Port Varn opens at five in the morning.",
        "When does the fish market of Port Varn open?",
        "five in the morning",
    ),
    (
        "The town hall of Port Varn was built from grey granite.",
        "What was the town hall of Port Varn built from?",
        "grey granite",
    ),
]
_OUT = [  # left out of the index: its questions are the out-of-corpus probes
    (
        "The Keld pass crosses the Osterfell range at 2,140 metres.",
        "How high is the Keld pass?",
        "2,140 metres",
    ),
    (
        "Smugglers used the Keld pass until 1923.",
        "Until when did smugglers use the Keld pass?",
        "1923",
    ),
    (
        "The Keld hut sleeps twelve climbers.",
        "How many climbers does the Keld hut sleep?",
        "twelve",
    ),
    ("The road over the pass was paved in 1961.", "When was the road over the pass paved?", "1961"),
    (
        "Snow closes the Keld pass from November to May.",
        "When is the Keld pass closed?",
        "November to May",
    ),
    (
        "The harbour of Eastwick was dredged in 1902.",
        "When was the harbour of Eastwick dredged?",
        "1902",
    ),
]
_OTHER = [  # indexed but never asked, as the held-out articles are in the eval index
    (
        "Fishing towns on the northern coast dredged their harbours in the nineteenth century.",
        "Which towns dredged their harbours?",
        "Fishing towns",
    ),
    (
        "A lighthouse was designed for every harbour of the coast by the council engineers.",
        "Who designed the lighthouses?",
        "the council engineers",
    ),
]


def _article(title, rows, tag):
    return {
        "title": title,
        "paragraphs": [
            {
                "context": text,
                "qas": [
                    {
                        "id": f"{tag}{i}",
                        "question": q,
                        "answers": [{"text": a, "answer_start": text.index(a)}],
                    }
                ],
            }
            for i, (text, q, a) in enumerate(rows)
        ],
    }


def _in_out_other():
    """Articles 0 (asked in corpus), 1 (asked out of corpus) and 2 (indexed, never asked)."""
    return [
        _article("Port Varn", _IN, "i"),
        _article("Keld pass", _OUT, "o"),
        _article("Coast", _OTHER, "x"),
    ]


def _squad_and_weights(tmp_path, articles):
    """A SQuAD file of ``articles`` and a copy of the shipped weights for train.py to write."""
    import shutil

    from bot.evaluate import train

    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps({"version": "v1.1", "data": articles}), encoding="utf-8")
    out = tmp_path / "weights.json"
    shutil.copy(train.WEIGHTS, out)
    return squad, out


def test_trained_threshold_keeps_the_share_answered_in_eval(tmp_path, monkeypatch):
    """train.py's confidence rows must be the ones `citebot eval FILE --articles IN
    --out-of-corpus OUT` scores (the same index, with every other article in it, and the same
    question path): then the threshold it writes keeps --keep-answered answered there. Rows from
    an index of the IN articles alone give other confidences (other idfs, fewer chunks)."""
    import argparse
    import importlib

    from bot.evaluate import command, train

    conf_mod = importlib.import_module("bot.extract.confidence")
    squad, out = _squad_and_weights(tmp_path, _in_out_other())
    keep = 0.8
    argv = [str(squad), "--articles", "0-1", "--confidence-in", "0", "--confidence-out", "1"]
    argv += ["--confidence-only", "--keep-answered", str(keep), "--out", str(out)]
    argv += ["--small-paragraphs", "2", "--dump", str(tmp_path / "rows.npz")]
    monkeypatch.chdir(tmp_path)
    assert train.main(argv) == 0
    fitted = json.loads(out.read_text(encoding="utf-8"))
    weights = tuple(fitted["confidence"].get(n, 0.0) for n in conf_mod.CONFIDENCE_FEATURES)
    # The engine scores with the weights just written, as it would once they are installed.
    monkeypatch.setattr(conf_mod, "confidence_weights", lambda path=None: weights)

    p = argparse.ArgumentParser()
    command.register(p.add_subparsers())
    details = tmp_path / "details.jsonl"
    args = p.parse_args(
        ["eval", str(squad), "--articles", "0", "--out-of-corpus", "1", "--details", str(details)]
    )
    args.threshold = fitted["threshold"]
    report = command.run(args)
    assert report["answerable_in_corpus"] == len(_IN)
    assert report["at_threshold"]["answered"] >= keep

    # Row for row: the confidences of train's eval-index rows are eval's confidences.
    rows = np.load(tmp_path / "rows.npz")
    x, y, big = rows["x"], rows["y"], rows["eval_index"]
    missing_in, missing_out = (int(n) for n in rows["missing"])
    mine = {
        label: sorted(
            [round(conf_mod.confidence(tuple(f), weights), 4) for f in x[big & (y == label)]]
            + [0.0] * (missing_in if label else missing_out)
        )
        for label in (1.0, 0.0)
    }
    results = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    for label in (1.0, 0.0):
        theirs = sorted(r["confidence"] for r in results if r["in_corpus"] == bool(label))
        assert mine[label] == pytest.approx(theirs, abs=1e-9)


def test_keep_threshold_counts_questions_without_a_span():
    conf = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    t = keep_threshold(conf, 0.5)
    assert t == 0.6 and np.mean(conf >= t) == 0.5
    # Two more in-corpus questions got no span: 5 of 10 must clear the threshold.
    t = keep_threshold(conf, 0.5, missing=2)
    assert t == 0.5
    # Rounded down, never up, so the question at the cut stays answered.
    assert keep_threshold(np.array([0.56789, 0.1]), 0.5) == 0.567
    assert keep_threshold(conf, 1.0, missing=1) == 0.0


def _squad_articles(tmp_path):
    from bot.evaluate.loaders import load_squad

    data = {
        "version": "v1.1",
        "data": [_article("Port Varn", _IN, "i"), _article("Coast", _OTHER, "x")],
    }
    squad = tmp_path / "squad.json"
    squad.write_text(json.dumps(data), encoding="utf-8")
    return load_squad(squad)


def test_span_groups_see_the_features_the_engine_scores(tmp_path):
    """Training rows are the rows ``best_span`` ranks: with the corpus idf, not without."""
    from bot.evaluate.train import _engine_layout, span_groups
    from bot.extract import MAX_CHUNKS, corpus_idf, document_cache
    from bot.extract.qtype import question_type
    from bot.extract.rank import score_spans
    from bot.retrieve import retrieve

    articles = _squad_articles(tmp_path)
    engine, layout = _engine_layout(articles, tmp_path, engine_options())
    questions = list(articles[0].questions)
    groups = span_groups(engine, questions, layout)
    assert len(groups) == len(questions)
    for q, (feats, _, _) in zip(questions, groups, strict=True):
        hits = retrieve(
            engine.index,
            engine.analyzer,
            q.question,
            engine.options.candidates,
            engine.options.rerank,
        )
        ranking = score_spans(
            q.question,
            question_type(q.question),
            hits,
            document_cache(engine.index),
            engine.analyzer,
            max_chunks=MAX_CHUNKS,
            idf=corpus_idf(engine.index),
        )
        assert np.array_equal(feats, np.array([s.features for s in ranking.spans]))


def test_span_groups_give_partial_credit_only_in_the_gold_sentence(tmp_path):
    from bot.evaluate.train import _engine_layout, span_groups

    articles = _squad_articles(tmp_path)
    engine, layout = _engine_layout(articles, tmp_path, engine_options())
    questions = list(articles[0].questions)
    exact = span_groups(engine, questions, layout, partial=0.0)
    soft = span_groups(engine, questions, layout, partial=0.3)
    for (_, y0, _), (_, y1, s1) in zip(exact, soft, strict=True):
        assert set(np.unique(y0)) <= {0.0, 1.0}
        assert np.array_equal(y0 == 1.0, y1 == 1.0)  # exact spans keep label 1
        assert ((y1 >= 0.0) & (y1 <= 0.3 + 1e-12) | (y1 == 1.0)).all()
        assert (s1[(y1 > 0) & (y1 < 1)] == 1.0).all()  # partial credit only in the sentence
    # "grey granite": "granite" alone is half right and sits in the gold sentence.
    assert any(((y > 0) & (y < 1)).any() for _, y, _ in soft)


def test_folds_pool_rows_of_both_directions_under_one_threshold(tmp_path):
    """``--fold IN:OUT``, repeated: each fold's rows come from its own eval index, one model and
    one threshold are fitted over all of them, and the threshold keeps --keep-answered of the
    pooled in-corpus questions answered."""
    from bot.evaluate import train
    from bot.extract.confidence import CONFIDENCE_FEATURES

    squad, out = _squad_and_weights(tmp_path, _in_out_other())
    keep = 0.8
    argv = [str(squad), "--articles", "0-1", "--fold", "0:1", "--fold", "1:0"]
    argv += ["--confidence-only", "--keep-answered", str(keep), "--out", str(out)]
    argv += ["--small-paragraphs", "2", "--dump", str(tmp_path / "rows.npz")]
    assert train.main(argv) == 0

    rows = np.load(tmp_path / "rows.npz")
    x, y, big, fold = rows["x"], rows["y"], rows["eval_index"], rows["fold"]
    fold_missing = rows["fold_missing"]
    assert fold_missing.shape == (2, 2)
    assert list(rows["missing"]) == list(fold_missing.sum(0))
    # Fold 0 asks Port Varn's questions as in-corpus, fold 1 as out-of-corpus (and Keld's the
    # other way round): every question is asked once per fold on that fold's eval index.
    for f, (n_in, n_out) in enumerate(((len(_IN), len(_OUT)), (len(_OUT), len(_IN)))):
        rows_in = np.sum(big & (fold == f) & (y == 1)) + fold_missing[f, 0]
        rows_out = np.sum(big & (fold == f) & (y == 0)) + fold_missing[f, 1]
        assert (rows_in, rows_out) == (n_in, n_out)

    fitted = json.loads(out.read_text(encoding="utf-8"))
    w = np.array([fitted["confidence"][n] for n in CONFIDENCE_FEATURES])
    pos = 1.0 / (1.0 + np.exp(-(x[big & (y == 1)] @ w)))
    assert np.sum(pos >= fitted["threshold"]) >= keep * (len(pos) + fold_missing[:, 0].sum())
    assert "0 (indexed) vs 1 (left out); 1 (indexed) vs 0 (left out)" in fitted["note"]


@pytest.mark.parametrize(
    ("fold", "message"),
    [
        ("0-1", "expected IN:OUT"),
        ("0:", "expected IN:OUT"),
        ("0:9", "outside"),
        ("0:0", "must not overlap"),
        ("0:2", "must be among --articles"),
    ],
)
def test_bad_folds_are_refused(tmp_path, capsys, fold, message):

    from bot.evaluate import train

    squad, out = _squad_and_weights(
        tmp_path,
        [
            _article("Port Varn", _IN, "i"),
            _article("Coast", _OTHER, "x"),
            _article("Keld pass", _OUT, "o"),
        ],
    )
    argv = [str(squad), "--articles", "0-1", "--fold", fold, "--confidence-only", "--out", str(out)]
    with pytest.raises(SystemExit):
        train.main(argv)
    assert message in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == train.WEIGHTS.read_text(encoding="utf-8")


def test_fold_and_single_fold_options_do_not_mix(tmp_path, capsys):
    from bot.evaluate import train

    argv = [str(tmp_path / "squad.json"), "--fold", "0-3:4-7", "--confidence-in", "0-3"]
    with pytest.raises(SystemExit):
        train.main(argv)
    assert "--fold replaces" in capsys.readouterr().err
