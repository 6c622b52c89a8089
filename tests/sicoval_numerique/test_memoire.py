"""``figer()`` loads the URL configuration and freezes what is alive out of the garbage collector's collections;
gunicorn calls it once a worker has loaded the application (``post_worker_init`` of ``gunicorn.conf.py``)."""

import gc
import runpy
from pathlib import Path

import pytest
from django.urls import clear_url_caches, get_resolver

from sicoval_numerique import memoire

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


class _Vivant:
    """An object the collector tracks (an instance with a __dict__)."""


@pytest.fixture
def degele():
    """Nothing frozen before the test, nothing left frozen after it (the other tests' objects stay collectable)."""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        yield
    finally:
        gc.unfreeze()


def _suivi(obj):
    """Whether the collector's generations hold ``obj`` (a frozen object is in none of them)."""
    return any(o is obj for o in gc.get_objects())


def test_figer_freezes_the_objects_alive_and_returns_how_many(degele):
    vivant = _Vivant()
    assert gc.is_tracked(vivant) and _suivi(vivant)
    gele = memoire.figer()
    # What figer() froze, as counted when it returned: a frozen object freed since leaves the count.
    assert 0 < gc.get_freeze_count() <= gele
    # Out of the collector's generations: collections no longer walk it.
    assert not _suivi(vivant)
    gc.unfreeze()
    assert _suivi(vivant)


def test_figer_leaves_out_what_is_created_afterwards(degele):
    memoire.figer()
    apres = _Vivant()
    assert _suivi(apres)


def test_figer_loads_the_url_patterns(degele):
    clear_url_caches()
    assert "url_patterns" not in get_resolver().__dict__
    memoire.figer()
    resolver = get_resolver()
    assert "url_patterns" in resolver.__dict__  # the cached property was computed
    assert resolver.url_patterns


def test_gunicorn_post_worker_init_calls_figer(monkeypatch):
    appels = []
    monkeypatch.setattr(memoire, "figer", lambda: appels.append("figer"))
    conf = runpy.run_path(str(GUNICORN_CONF))
    conf["post_worker_init"](object())
    assert appels == ["figer"]


def test_gunicorn_post_worker_init_freezes_the_worker_objects(degele):
    conf = runpy.run_path(str(GUNICORN_CONF))
    conf["post_worker_init"](object())
    assert gc.get_freeze_count() > 0
