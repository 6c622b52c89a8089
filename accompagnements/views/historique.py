"""Placeholder until written (issue 4 in progress)."""

from django.http import Http404


def activite_list(request, **kwargs):
    raise Http404
