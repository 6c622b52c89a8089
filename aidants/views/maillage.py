"""The territorial mesh for Sicoval staff: commune by commune, the help found there over a period (last twelve
months by default), the communes without any highlighted with who could cover them, an accessible SVG chart of
accompaniments per 1,000 inhabitants and the CSV of the table. Figures come from ``aidants.maillage`` in a fixed
number of queries."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from aidants import maillage as selectors
from aidants.exports import FORMULA_STARTS
from sicoval_numerique import charts
from sicoval_numerique.forms import PeriodeMoisForm

NOT_ALLOWED = "Le maillage territorial est réservé à l'équipe du Sicoval."


def _period_form(request):
    """Whole months, as every figure of the platform (the activities come from the monthly summaries)."""
    data = request.GET.copy()
    du, au = selectors.default_period()
    if not data.get("du"):
        data["du"] = f"{du:%Y-%m}"
    if not data.get("au"):
        data["au"] = f"{au:%Y-%m}"
    return PeriodeMoisForm(data)


def _require_staff(user):
    if not user.is_staff:
        raise PermissionDenied(NOT_ALLOWED)


def decimal_fr(value):
    """12.5 → « 12,5 »; None → « — »."""
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


# --- The chart ------------------------------------------------------------------------------------------------------
HATCH = "#6b4a00"  # 9:1 on white
ROW, TOP = 44, 4


def _chart_summary(maillage, rows):
    sans_aide = maillage.sans_aide
    text = f"{len(rows)} communes."
    if sans_aide:
        noms = ", ".join(ligne.commune.nom for ligne in sans_aide)
        text += f" {len(sans_aide)} sans aide, marquées par des hachures et la mention « aucune aide » : {noms}."
    else:
        text += " Toutes les communes ont au moins une aide."
    known = [ligne for ligne in rows if ligne.pour_mille is not None]
    if known:
        top = max(known, key=lambda ligne: ligne.pour_mille)
        low = min(known, key=lambda ligne: ligne.pour_mille)
        text += (
            f" Taux le plus élevé : {top.commune.nom} ({decimal_fr(top.pour_mille)} pour 1 000 habitants) ;"
            f" le plus bas : {low.commune.nom} ({decimal_fr(low.pour_mille)})."
        )
    return text + " Le tableau du maillage donne toutes les valeurs."


def chart(maillage):
    """Horizontal bars of accompaniments per 1,000 inhabitants, lowest first (unknown populations last); a commune
    without help carries a hatched mark and the words « aucune aide », never the colour alone."""
    rows = sorted(
        maillage.lignes,
        key=lambda ligne: (ligne.pour_mille is None, ligne.pour_mille or 0, selectors.sort_key(ligne.commune.nom)),
    )
    title = "Accompagnements pour 1 000 habitants, par commune"
    desc = _chart_summary(maillage, rows)
    largest = max((ligne.pour_mille or 0 for ligne in rows), default=0)
    value_room = 150
    scale = float(charts.WIDTH - value_room) / float(largest) if largest else 0
    parts = [
        format_html(
            '<defs><pattern id="maillage-hachures" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="{hatch}" stroke-width="3"/>'
            "</pattern></defs>",
            hatch=HATCH,
        )
    ]
    for index, ligne in enumerate(rows):
        y = TOP + index * ROW
        bar = round(float(ligne.pour_mille or 0) * scale, 1)
        value = "population inconnue" if ligne.pour_mille is None else decimal_fr(ligne.pour_mille)
        parts.append(
            format_html(
                '<text x="0" y="{ly}" font-size="15" fill="{text}">{label}</text>'
                '<rect x="0" y="{by}" width="{bw}" height="14" fill="{bar}"/>',
                ly=y + 15,
                text=charts.TEXT,
                label=charts._shorten(ligne.commune.nom),
                by=y + 21,
                bw=bar,
                bar=charts.BAR,
            )
        )
        x = bar + 6
        if ligne.sans_aide:
            parts.append(
                format_html(
                    '<rect x="{x}" y="{y}" width="22" height="14" fill="url(#maillage-hachures)" stroke="{hatch}" '
                    'stroke-width="1.5"/>',
                    x=round(x, 1),
                    y=y + 21,
                    hatch=HATCH,
                )
            )
            x += 28
            value += " · aucune aide"
        parts.append(
            format_html(
                '<text x="{x}" y="{y}" font-size="14" fill="{text}" font-weight="600">{value}</text>',
                x=round(x, 1),
                y=y + 33,
                text=charts.TEXT,
                value=value,
            )
        )
    height = TOP + max(len(rows), 1) * ROW
    body = mark_safe("".join(parts))  # noqa: S308 — every part was built by format_html  # nosec B308 B703
    css_class = "chart chart-horizontal"
    return charts._svg("graphique-maillage", title, desc, charts.WIDTH, height, body, css_class=css_class)


# --- Pages ----------------------------------------------------------------------------------------------------------
@login_required
@require_safe
def maillage(request):
    _require_staff(request.user)
    form = _period_form(request)
    context = {"form": form, "maillage": None}
    if not form.is_valid():
        return render(request, "aidants/maillage.html", context, status=400)
    data = selectors.couverture(form.cleaned_data["du"], form.cleaned_data["au"])
    for ligne in data.lignes:
        ligne.pour_mille_fr = decimal_fr(ligne.pour_mille)
    context.update(
        maillage=data,
        graphique=chart(data) if data.lignes else "",
        pour_mille_fr=decimal_fr(data.pour_mille),
        export_query=f"du={data.du.isoformat()}&au={data.au.isoformat()}",
    )
    return render(request, "aidants/maillage.html", context)


CSV_COLUMNS = [
    "Code INSEE",
    "Commune",
    "Population",
    "Lieux de médiation",
    "Arrêts du lieu itinérant sur la période",
    "Prochain arrêt",
    "Conseillers",
    "Aidants actifs",
    "dont habilités Aidants Connect",
    "Ateliers tenus",
    "Accompagnements",
    "Accompagnements pour 1 000 habitants",
    "Sans aide",
]


def _cell(text):
    """A text a spreadsheet would read as a formula is kept as text."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@login_required
@require_safe
def maillage_csv(request):
    _require_staff(request.user)
    form = _period_form(request)
    if not form.is_valid():
        errors = " ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(f"Période invalide : {errors}", status=400, content_type="text/plain; charset=utf-8")
    du, au = form.cleaned_data["du"], form.cleaned_data["au"]
    data = selectors.couverture(du, au)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="maillage-{du:%Y-%m-%d}-{au:%Y-%m-%d}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    for ligne in data.lignes:
        writer.writerow(
            [
                ligne.commune.code_insee,
                _cell(ligne.commune.nom),
                "" if ligne.population is None else ligne.population,
                ligne.nb_lieux,
                ligne.arrets,
                ligne.prochain_arret.isoformat() if ligne.prochain_arret else "",
                ligne.nb_conseillers,
                ligne.nb_aidants,
                ligne.aidants_habilites,
                ligne.ateliers,
                ligne.accompagnements,
                "" if ligne.pour_mille is None else decimal_fr(ligne.pour_mille),
                "oui" if ligne.sans_aide else "non",
            ]
        )
    return response
