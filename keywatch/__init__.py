"""keywatch: find marketplace listings of keyless car-theft devices and keep them as evidence.

This package is the command line; the version and settings every package shares are in `common`.
"""
