"""The yardstick of issue 11: a plain TF-IDF logistic regression, trained when it is measured.

Character 2-5-grams within words (char_wb) and words and word pairs of the raw text (title and
description), TF-IDF weighted, one multinomial logistic regression, flagged when the probability
of any device reaches 0.5: no watchlist, no normalisation, no rules. `keywatch eval` trains it
on the training set to set our classifier beside it; it is never shipped or stored (no pickle).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from classifier.classify import Classification

NONE = "none"
C = 10.0
THRESHOLD = 0.5


def _text(row: dict) -> str:
    return f"{row['title']}\n{row['description']}"


class TfidfBaseline:
    def __init__(self, rows: list[dict], categories, c: float = C):
        """Fit on labelled rows (ambiguous ones left out by the caller)."""
        self.classes = [NONE] + list(categories)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2))
        texts = [_text(r) for r in rows]
        x = sparse.hstack([self.chars.fit_transform(texts), self.words.fit_transform(texts)]).tocsr()
        self.lr = LogisticRegression(C=c, max_iter=3000)
        self.lr.fit(x, [self.classes.index(r["category"]) for r in rows])

    def probabilities(self, rows: list[dict]) -> np.ndarray:
        """Rows x classes (none first)."""
        texts = [_text(r) for r in rows]
        x = sparse.hstack([self.chars.transform(texts), self.words.transform(texts)]).tocsr()
        out = np.zeros((len(rows), len(self.classes)))
        out[:, self.lr.classes_] = self.lr.predict_proba(x)
        return out

    def label(self, p: np.ndarray) -> str:
        """The label of one row of probabilities: the likeliest device when P(device) >= THRESHOLD."""
        if 1 - p[0] < THRESHOLD:
            return NONE
        return self.classes[1 + int(np.argmax(p[1:]))]

    def classify(self, title: str, description: str) -> Classification:
        """One listing, as classifier.evaluate.evaluate scores it (no risk, no matches)."""
        p = self.probabilities([{"title": title, "description": description}])[0]
        label = self.label(p)
        category = None if label == NONE else label
        return Classification(category is not None, category, None, int(round(100 * (1 - p[0]))), [])
