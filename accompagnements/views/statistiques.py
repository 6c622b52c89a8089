"""Placeholder until written (issue 4 in progress)."""

from django.http import Http404


def statistiques(request, **kwargs):
    raise Http404


def partage_create(request, **kwargs):
    raise Http404


def partage_revoke(request, **kwargs):
    raise Http404


def partage_public(request, **kwargs):
    raise Http404
