"""Helpers the tests share (imported as `tests.support.<module>`); fixtures live in tests/conftest.py.

Nothing here is part of keywatch: sample items and desks with fixed passwords, browser plumbing, CLI runners.
Whatever they write to a store goes through db/ functions, as keywatch's own code does.
"""
