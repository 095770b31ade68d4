"""keywatch: find marketplace listings of keyless car-theft devices and keep them as evidence."""

from common import VERSION as __version__

__all__ = ["__version__"]
