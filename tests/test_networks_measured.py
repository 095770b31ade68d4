"""Link precision and recall on labelled seller pairs: the demo's truth and a written set of hard look-alikes."""

from tests.support.network_quality import measure


def test_link_precision_and_recall_on_the_labelled_pairs():
    result = measure()
    for name, counts in result.items():
        print(
            f"{name}: precision {counts['precision']:.3f} recall {counts['recall']:.3f} "
            f"(tp {counts['tp']}, fp {counts['fp']}, fn {counts['fn']}, tn {counts['tn']})"
        )
    assert result["all"]["tp"] + result["all"]["fn"] >= 15  # enough positives to mean something
    assert result["all"]["precision"] >= 0.95
    assert result["all"]["recall"] >= 0.9
    assert result["demo"]["fp"] == 0 and result["demo"]["fn"] == 0  # the demo prints exactly its networks
