from django.http import Http404


def structure_list(request, **kwargs):
    raise Http404


def structure_create(request, **kwargs):
    raise Http404


def structure_detail(request, **kwargs):
    raise Http404


def structure_edit(request, **kwargs):
    raise Http404


def structure_statut(request, **kwargs):
    raise Http404


def structure_conventionnement(request, **kwargs):
    raise Http404


def membership_add(request, **kwargs):
    raise Http404


def membership_remove(request, **kwargs):
    raise Http404


def lieu_create(request, **kwargs):
    raise Http404


def lieu_list(request, **kwargs):
    raise Http404


def lieu_edit(request, **kwargs):
    raise Http404


def lieu_toggle(request, **kwargs):
    raise Http404


def arret_create(request, **kwargs):
    raise Http404


def arret_delete(request, **kwargs):
    raise Http404
