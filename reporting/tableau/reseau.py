"""The network's sections of the dashboard: posts, funding (from the selectors of their apps), referrals and
aidants."""

from decimal import Decimal

from django.db.models import Count, Q, Sum

from aidants.models import Aidant, FormationAidant, Orientation, StatutOrientation, TypeFormationAidant
from conseillers.selectors import postes_counts_at, postes_counts_by_structure_at
from financements import selectors as financements
from financements.models import Financeur, LigneFinancement
from sicoval_numerique.charts import number
from structures.models import Structure

from .elements import (
    DECIMAL,
    EUROS,
    POURCENT,
    STRUCTURES_DANS_LE_GRAPHIQUE,
    Chiffre,
    Colonne,
    FigureTableau,
    Ligne,
    LigneTableau,
    Section,
    formater,
    part,
)
from .perimetre import dans, entre, jour_de_fin

# The structures the posts table details (a national scope counts thousands).
STRUCTURES_AFFICHEES = 50


# --- Posts ---------------------------------------------------------------------------------------------------------
def section_postes(du, au, perimetre, *, today):
    """Posts on the last day of the period (or today), three queries."""
    date = jour_de_fin(au, today)
    structures = None
    if perimetre.structures is not None or perimetre.communes is not None:
        structures = Structure.objects.filter(dans(perimetre, "pk", "commune")).values("pk")
    counts = postes_counts_at(date, structures=structures)
    by_structure = postes_counts_by_structure_at(date, structures=structures)
    noms = dict(Structure.objects.filter(pk__in=list(by_structure)).values_list("pk", "nom"))
    rate = counts["occupancy_rate"]
    le = f"le {date:%d/%m/%Y}"
    cartes = [
        Chiffre("accordes", "Postes accordés", counts["granted"], f"Les postes attribués et non rendus {le}."),
        Chiffre("occupes", "Postes occupés", counts["occupied"], f"Les postes accordés qui ont un occupant {le}."),
        Chiffre("vacants", "Postes vacants", counts["vacant"], f"Les postes accordés sans occupant {le}."),
        Chiffre(
            "occupation",
            "Taux d'occupation",
            None if rate is None else float(rate) * 100,
            f"Postes occupés ÷ postes accordés, {le}.",
            format=POURCENT,
        ),
    ]
    etat = FigureTableau(
        key="etat",
        title="Postes accordés, occupés et vacants",
        dimension="État",
        unit="Postes",
        unite_graphique="postes",
        lignes=[Ligne("occupes", "Occupés", counts["occupied"]), Ligne("vacants", "Vacants", counts["vacant"])],
        base=counts["granted"],
        colonnes=[Colonne("Part", "part", POURCENT)],
        how=f"Les postes accordés {le}, selon qu'une affectation les couvre ce jour-là ; la part est rapportée aux "
        "postes accordés. Un poste compte pour la structure à laquelle il était rattaché ce jour-là.",
    )
    lignes = []
    accordes = {pk: row for pk, row in by_structure.items() if row["granted"]}
    # A national scope counts thousands of structures: the table details those with the most posts.
    detaillees = set(sorted(accordes, key=lambda pk: (-accordes[pk]["granted"], pk))[:STRUCTURES_AFFICHEES])
    for pk, row in sorted(accordes.items(), key=lambda item: noms.get(item[0], "").lower()):
        if pk not in detaillees:
            continue
        rate = row["occupancy_rate"]
        lignes.append(
            LigneTableau(
                str(pk),
                noms.get(pk, ""),
                row["granted"],
                extras={
                    "occupes": row["occupied"],
                    "vacants": row["vacant"],
                    "taux": None if rate is None else float(rate) * 100,
                },
            )
        )
    autres = [row for pk, row in accordes.items() if pk not in detaillees]
    if autres:
        granted, occupied = sum(row["granted"] for row in autres), sum(row["occupied"] for row in autres)
        lignes.append(
            LigneTableau(
                "autres",
                f"Autres structures ({len(autres)})",
                granted,
                extras={
                    "occupes": occupied,
                    "vacants": sum(row["vacant"] for row in autres),
                    "taux": 100 * occupied / granted,
                },
            )
        )
    par_structure = FigureTableau(
        key="structures",
        title="Postes par structure",
        dimension="Structure",
        unit="Postes accordés",
        unite_graphique="postes",
        lignes=lignes,
        chart_limit=STRUCTURES_DANS_LE_GRAPHIQUE,
        colonnes=[
            Colonne("Occupés", "occupes"),
            Colonne("Vacants", "vacants"),
            Colonne("Taux d'occupation", "taux", POURCENT),
        ],
        how=f"Pour chaque structure, ses postes accordés {le} (un poste compte pour la structure à laquelle il était "
        "rattaché ce jour-là), occupés et vacants ; le taux d'occupation est occupés ÷ accordés. Au-delà de "
        f"{STRUCTURES_AFFICHEES} structures, les {STRUCTURES_AFFICHEES} qui ont le plus de postes sont détaillées, "
        "les autres regroupées sur une ligne.",
    )
    return Section("postes", "Postes de conseillers", cartes, [etat, par_structure])


# --- Funding -------------------------------------------------------------------------------------------------------
def section_financements(du, au, perimetre, *, today):
    """Funding of the posts of the scope at the end of the period, by funder (four queries)."""
    date = jour_de_fin(au, today)
    lignes = LigneFinancement.objects.filter(dans(perimetre, "convention__structure", "convention__structure__commune"))
    if perimetre.financeurs is not None:
        lignes = lignes.filter(
            Q(convention__financeur__in=perimetre.financeurs)
            | Q(convention__structure__in=perimetre.structures_propres)
        )
    by_funder = financements.figures_by_financeur(lignes_queryset=lignes, on_date=date)
    noms = dict(Financeur.objects.filter(pk__in=list(by_funder)).values_list("pk", "nom"))
    totals = sum(by_funder.values(), financements.Figures())
    le = f"le {date:%d/%m/%Y}"
    cartes = [
        Chiffre(
            "accorde",
            "Montant accordé",
            totals.agreed,
            "La somme des lignes de financement des conventions des structures (montant de base et bonification "
            "QPV/ZRR), quel que soit le statut de la convention.",
            format=EUROS,
        ),
        Chiffre(
            "verse", "Montant versé", totals.paid, f"Les versements effectués jusqu'au {date:%d/%m/%Y}.", format=EUROS
        ),
        Chiffre("reste", "Reste à verser", totals.remaining, f"Montant accordé − montant versé, {le}.", format=EUROS),
        Chiffre(
            "retard",
            "Versements en retard",
            totals.overdue,
            f"Les échéances des conventions signées prévues avant le {date:%d/%m/%Y} et non versées ce jour-là.",
            format=EUROS,
            detail=f"{number(totals.overdue_count)} échéance{'s' if totals.overdue_count > 1 else ''}",
        ),
        Chiffre(
            "reverse",
            "Reversements (avoirs)",
            totals.repaid,
            f"Les sommes rendues aux financeurs jusqu'au {date:%d/%m/%Y} (dépenses non justifiées, rupture…).",
            format=EUROS,
        ),
    ]
    lignes_figure = [
        LigneTableau(
            str(pk), noms.get(pk, ""), figures.agreed, extras={"verse": figures.paid, "reste": figures.remaining}
        )
        for pk, figures in sorted(by_funder.items(), key=lambda item: noms.get(item[0], "").lower())
    ]
    figure = FigureTableau(
        key="financeurs",
        title="Financements par financeur",
        dimension="Financeur",
        unit="Montant accordé",
        unite_graphique="euros",
        format=EUROS,
        lignes=lignes_figure,
        colonnes=[Colonne("Montant versé", "verse", EUROS), Colonne("Reste à verser", "reste", EUROS)],
        how=f"Pour chaque financeur, le total de ses lignes de financement, ce qu'il a versé jusqu'au "
        f"{date:%d/%m/%Y} et ce qu'il reste à verser. Le graphique arrondit à l'euro.",
    )
    note = "Vous ne voyez que vos propres financements." if perimetre.financeurs is not None else ""
    return Section("financements", "Financements", cartes, [figure], note=note)


# --- Referrals -----------------------------------------------------------------------------------------------------
def section_orientations(du, au, perimetre):
    """Referrals sent during the period by the aidants of the scope's structures (for the person's commune), by
    outcome, in one query."""
    counts = dict(
        Orientation.objects.filter(entre("created_at", du, au), dans(perimetre, "aidant__structure", "commune"))
        .values_list("statut")
        .annotate(n=Count("pk"))
        .order_by()
    )
    total = sum(counts.values())
    realisees = counts.get(StatutOrientation.REALISEE, 0)
    cartes = [
        Chiffre(
            "envoyees",
            "Orientations envoyées",
            total,
            "Les personnes orientées par un aidant vers un conseiller numérique ou un atelier sur la période.",
            personnes=True,
        ),
        Chiffre(
            "realisees",
            "Accompagnements réalisés",
            realisees,
            "Les orientations de la période dont l'accompagnement a été réalisé.",
            personnes=True,
        ),
        Chiffre(
            "taux_realisation",
            "Taux de réalisation",
            part(realisees, total),
            "Orientations réalisées ÷ orientations envoyées sur la période (celles encore en cours comptent).",
            format=POURCENT,
            masque_avec=("envoyees", "realisees"),
        ),
        Chiffre(
            "en_attente",
            "En attente de prise en charge",
            counts.get(StatutOrientation.NOUVELLE, 0),
            "Les orientations de la période qu'aucun conseiller n'a encore prises en charge.",
            personnes=True,
        ),
    ]
    figure = FigureTableau(
        key="suites",
        title="Orientations par suite donnée",
        dimension="Suite donnée",
        unit="Orientations",
        unite_graphique="orientations",
        lignes=[Ligne(code, label, counts.get(code, 0)) for code, label in StatutOrientation.choices],
        base=total,
        personnes=True,
        colonnes=[Colonne("Part", "part", POURCENT)],
        how="Chaque orientation envoyée sur la période par un aidant des structures compte une fois, selon où elle en "
        "est aujourd'hui ; la commune est celle de la personne orientée.",
    )
    return Section("orientations", "Orientations des aidants", cartes, [figure])


# --- Aidants -------------------------------------------------------------------------------------------------------
def section_aidants(du, au, perimetre):
    """Aidants of the scope's structures (in the commune of their structure) and their trainings of the period,
    two queries."""
    du_perimetre = dans(perimetre, "structure", "structure__commune")
    periode = Q(date__gte=du, date__lte=au)
    formations = {
        row.pop("type"): row
        for row in FormationAidant.objects.filter(periode, aidant__in=Aidant.objects.filter(du_perimetre).values("pk"))
        .values("type")
        .annotate(n=Count("pk"), aidants=Count("aidant", distinct=True), heures=Sum("heures"))
        .order_by()
    }
    reseau = Aidant.objects.filter(du_perimetre).aggregate(
        actifs=Count("pk", filter=Q(actif=True), distinct=True),
        formes=Count("pk", filter=Q(formations__date__gte=du, formations__date__lte=au), distinct=True),
        habilites=Count("pk", filter=Q(habilite_aidants_connect=True, date_habilitation__lte=au), distinct=True),
    )
    heures = sum((row["heures"] or Decimal(0) for row in formations.values()), Decimal(0))
    nombre = sum(row["n"] for row in formations.values())
    cartes = [
        Chiffre(
            "formes",
            "Aidants formés",
            reseau["formes"],
            "Les aidants qui ont suivi au moins une formation sur la période (chacun compte une fois).",
        ),
        Chiffre(
            "formations",
            "Formations suivies",
            nombre,
            "Chaque formation suivie par un aidant sur la période (Aidants Connect, PIX, formations du réseau…).",
            detail=f"{formater(heures, DECIMAL)} h au total",
        ),
        Chiffre("actifs", "Aidants actifs", reseau["actifs"], "Les aidants du réseau aujourd'hui actifs."),
        Chiffre(
            "habilites",
            "Habilités Aidants Connect",
            reseau["habilites"],
            f"Les aidants habilités Aidants Connect au {au:%d/%m/%Y} (date d'habilitation passée).",
        ),
    ]
    lignes = [
        LigneTableau(code, label, row["aidants"], extras={"formations": row["n"], "heures": row["heures"]})
        for code, label in TypeFormationAidant.choices
        if (row := formations.get(code))
    ]
    figure = FigureTableau(
        key="formations",
        title="Aidants formés par type de formation",
        dimension="Formation",
        unit="Aidants formés",
        unite_graphique="aidants",
        lignes=lignes,
        additive=False,
        colonnes=[Colonne("Formations", "formations"), Colonne("Heures", "heures", DECIMAL)],
        how="Pour chaque type de formation, les aidants qui l'ont suivie sur la période (un aidant formé deux fois "
        "compte une fois) ; un aidant peut compter sous plusieurs types.",
    )
    return Section("aidants", "Aidants numériques", cartes, [figure])
