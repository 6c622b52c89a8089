"""Keeping the garbage collector off the objects a worker loads once.

A worker holds about 175,000 objects that live as long as it does (modules, classes, URL patterns, templates). A full
collection walks them all: about 110 ms on the 2-core reference machine, and an answer of thousands of rows (the
nation's communes) triggered one every second or third request. ``figer()`` loads the URL patterns (and so every
view module), then moves what is loaded into the permanent generation (``gc.freeze``): collections then walk only
what requests create. Called by gunicorn once a worker has loaded the application (``gunicorn.conf.py``).
"""

import gc


def figer():
    """Load every view module, then freeze the objects alive (returns how many were frozen)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URL configuration and every view module
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
