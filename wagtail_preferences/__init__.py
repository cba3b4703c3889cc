"""A marketing preference center for Wagtail sites."""

__version__ = "0.1.0"
