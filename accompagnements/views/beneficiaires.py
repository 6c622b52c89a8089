"""Placeholder until written (issue 4 in progress)."""

from django.http import Http404


def beneficiaire_list(request, **kwargs):
    raise Http404


def beneficiaire_create(request, **kwargs):
    raise Http404


def beneficiaire_detail(request, **kwargs):
    raise Http404


def beneficiaire_edit(request, **kwargs):
    raise Http404
