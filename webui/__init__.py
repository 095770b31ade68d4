"""The review desk: a small server-rendered Flask + htmx app over the evidence store."""

from webui.app import create_app

__all__ = ["create_app"]
