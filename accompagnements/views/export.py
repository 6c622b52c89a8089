"""Placeholder until written (issue 4 in progress)."""

from django.http import Http404


def export_csv(request, **kwargs):
    raise Http404


def export_xlsx(request, **kwargs):
    raise Http404
