"""The classifier code's version (a stored classification records it with the model's: classify.classifier_version)."""

__version__ = "2.0.0"
