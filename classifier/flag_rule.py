"""When a listing is flagged: the one rule that combines the model's probability with the rules' evidence.

`classify` decides each listing by it; `train` chooses the thresholds and reports the k-fold figures by it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class FlagRule:
    threshold: float  # the model's device probability that flags a listing
    threshold_innocent: float  # the same when the rules found innocent evidence (the combination only; no lower)
    rules_alone: float = math.inf  # a rules score that flags the rules' named device below the threshold; inf: never
    rules_alone_floor: float = 0.0  # ...when the model gives the listing at least this device probability,
    rules_alone_words: int = 0  # ...or whatever it gives, in a listing of this many words (filler dilutes the model)

    def category(
        self,
        device_probability: float,
        model_category: str,
        rules_category: str | None,
        rule_score: float,
        innocent: bool,
        words: int,
        combined: bool,
    ) -> str | None:
        """The category a listing is flagged with, or None. `combined` False: the model's threshold alone (for
        `eval`); `rules_category`: what the rules flag, or None; `innocent`: the rules found innocent evidence."""
        if device_probability >= (self.threshold_innocent if combined and innocent else self.threshold):
            return model_category  # on k-fold the model names the kind better than the rules do
        if combined and rules_category is not None and self.rules_stand_alone(rule_score, device_probability, words):
            return rules_category
        return None

    def rules_stand_alone(self, rule_score, device_probability, words):
        """Whether the rules' named device flags below the model's threshold: per listing, or element-wise over
        numpy arrays of listings (the threshold search in classifier.train)."""
        return (rule_score >= self.rules_alone) & (
            (device_probability >= self.rules_alone_floor) | (words >= self.rules_alone_words)
        )
