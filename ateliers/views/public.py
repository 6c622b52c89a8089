"""Public pages of the workshops (placeholder until written)."""

from django.http import Http404


def agenda(request, **kwargs):
    raise Http404


def agenda_ics(request, **kwargs):
    raise Http404


def seance_publique(request, **kwargs):
    raise Http404


def inscription(request, **kwargs):
    raise Http404


def confirmation(request, **kwargs):
    raise Http404


def annuler(request, **kwargs):
    raise Http404
