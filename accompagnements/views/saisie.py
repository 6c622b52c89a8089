"""Placeholder until written (issue 4 in progress)."""

from django.http import Http404


def activite_create(request, **kwargs):
    raise Http404


def activite_detail(request, **kwargs):
    raise Http404


def activite_edit(request, **kwargs):
    raise Http404


def activite_delete(request, **kwargs):
    raise Http404
