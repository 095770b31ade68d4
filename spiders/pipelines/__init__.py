"""Item pipelines, one per file, run in the order set in spiders/settings.py (100 apart)."""
