"""Public pages without an account: the places of digital mediation, and their open-data export."""

import json

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from structures import choices, horaires, lieux_standard
from structures.models import Commune
from structures.selectors import lieux_publics


class LieuSearchForm(forms.Form):
    commune = forms.ModelChoiceField(
        queryset=Commune.objects.none(),
        required=False,
        label="Commune",
        empty_label="Toutes les communes",
        to_field_name="code_insee",
    )
    service = forms.ChoiceField(
        choices=[("", "Tous les services"), *choices.SERVICES], required=False, label="Service recherché"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Communes where a place is based or where the itinerant unit stops.
        self.fields["commune"].queryset = (
            Commune.objects.filter(
                Q(lieux__is_active=True)
                | Q(arrets_itinerants__lieu__is_active=True, arrets_itinerants__date__gte=timezone.localdate())
            )
            .distinct()
            .order_by("nom")
        )


@require_safe
def lieu_list(request):
    form = LieuSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    lieux = lieux_publics(commune=filters.get("commune"), service=filters.get("service", ""))
    page = Paginator(lieux, 20).get_page(request.GET.get("page"))
    commune = filters.get("commune")
    for lieu in page.object_list:
        lieu.horaires_fr = horaires.en_francais(lieu.horaires)
        # The next stop shown is the next one in the commune searched for, if any.
        stops = [a for a in lieu.prochains_arrets if commune is None or a.commune_id == commune.pk]
        lieu.prochain_arret = stops[0] if stops else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "structures/public/lieu_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": bool(filters and any(filters.values()))},
    )


@require_safe
def lieu_detail(request, uuid):
    lieu = get_object_or_404(lieux_publics(), uuid=uuid)
    return render(
        request,
        "structures/public/lieu_detail.html",
        {"lieu": lieu, "horaires_fr": horaires.en_francais(lieu.horaires)},
    )


@require_safe
def export_csv(request):
    """Every published place in the national standard, streamed (the file stays small in memory at any size)."""
    response = StreamingHttpResponse(
        lieux_standard.csv_lines(lieux_publics(with_stops=False).iterator(chunk_size=500)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="lieux-mediation-numerique.csv"'
    return response


@require_safe
def export_json(request):
    body = json.dumps(lieux_standard.to_json(lieux_publics(with_stops=False)), ensure_ascii=False, indent=1)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="lieux-mediation-numerique.json"'
    return response
