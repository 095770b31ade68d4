"""keywatch: find marketplace listings of keyless car-theft devices and keep them as evidence."""

__version__ = "0.1.0"
