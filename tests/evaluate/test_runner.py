import argparse
import json
from pathlib import Path

import pytest

from bot.evaluate import command
from bot.evaluate.loaders import load_squad
from bot.evaluate.runner import Result, at_threshold, summarize, write_squad_corpus

FIX = Path(__file__).parent.parent / "fixtures"


def _result(answers, conf, em=0.0, in_corpus=True):
    return Result(
        "i",
        "q?",
        tuple(answers),
        in_corpus,
        "x" if conf else None,
        None,
        conf,
        None,
        None,
        None,
        False,
        em,
        em,
        1.0,
    )


def test_paragraph_ranges_select_the_paragraphs(tmp_path):
    arts = load_squad(FIX / "eval_squad.json")
    layout = write_squad_corpus(arts, tmp_path)
    source, ranges = layout[0]
    text = (tmp_path / source).read_text(encoding="utf-8")
    assert [text[s:e] for s, e in ranges] == list(arts[0].paragraphs)
    assert text.count("\n\n") == len(arts[0].paragraphs) - 1


def test_threshold_withholds_and_scores():
    results = [
        _result(["a"], 0.9, em=1.0),
        _result(["b"], 0.2, em=1.0),  # right but withheld: scores 0 at t=0.5
        _result([], 0.1),  # unanswerable, withheld: right
        _result([], 0.8),  # unanswerable, answered: wrong
        _result(["c"], 0.3, in_corpus=False),
    ]
    row = at_threshold(results, 0.5)
    assert row["answered"] == 0.5
    assert row["has_ans_em"] == 0.5 and row["em_answered"] == 1.0
    assert row["no_ans_accuracy"] == 0.5
    assert row["out_of_corpus_withheld"] == 1.0
    report = summarize(results, 0.5)
    assert report["span_em"] == 1.0  # the best spans, abstention aside
    assert report["curve"][0]["answered"] == 1.0 and report["curve"][-1]["threshold"] == 1.0


def _args(*argv):
    p = argparse.ArgumentParser()
    command.register(p.add_subparsers())
    return p.parse_args(["eval", *argv])


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # eval must not leave an index behind in the working folder
    return tmp_path


def test_squad_report_through_the_engine(in_tmp):
    report = command.run(_args(str(FIX / "eval_squad.json"), "--threshold", "0"))
    assert report["questions"] == 5
    assert report["answerable_in_corpus"] == 4 and report["unanswerable_in_corpus"] == 1
    assert report["gold_paragraph_at_1"] == 1.0
    assert report["answer_from_gold_paragraph"] >= 0.75
    assert report["span_em"] >= 0.75
    assert report["at_threshold"]["no_ans_accuracy"] == 0.0  # threshold 0 answers everything
    assert list(in_tmp.iterdir()) == []


def test_out_of_corpus_questions_are_marked(in_tmp):
    report = command.run(_args(str(FIX / "eval_squad.json"), "--out-of-corpus", "1"))
    assert report["out_of_corpus"] == 1
    assert report["out_of_corpus_articles"] == {"1": "Mountain pass"}
    assert "out_of_corpus_withheld" in report["at_threshold"]


def test_beir_ndcg_through_the_engine(in_tmp):
    report = command.run(_args(str(FIX / "eval_beir")))
    assert report["queries"] == 2 and report["documents"] == 3
    assert report["ndcg_at_10"] == 1.0 and report["recall_at_100"] == 1.0


def test_jsonl_questions_against_a_corpus(in_tmp, capsys):
    corpus = in_tmp / "docs"
    corpus.mkdir()
    (corpus / "seed.txt").write_text(
        (FIX / "seed.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    args = _args(str(FIX / "extract_seed_questions.jsonl"), "--corpus", str(corpus), "--json")
    assert command.cmd_eval(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["answerable_in_corpus"] == 7 and report["unanswerable_in_corpus"] == 1
    assert report["at_threshold"]["em_answered"] == 1.0
    assert report["at_threshold"]["no_ans_accuracy"] == 1.0
