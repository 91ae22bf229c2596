import numpy as np

from bot.evaluate.train import fit_listwise, fit_logistic, top1_accuracy


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
