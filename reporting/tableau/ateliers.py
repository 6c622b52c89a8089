"""The workshops' and the Pass numérique's sections of the dashboard."""

from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from accompagnements import statistiques as stats_activites
from accompagnements.selectors import month_starts
from accompagnements.statistiques import month_label
from ateliers.models import (
    CategoriePass,
    Inscription,
    PassNumerique,
    Presence,
    Seance,
    SourceInscription,
    StatutInscription,
    StatutPass,
    StatutSeance,
)
from sicoval_numerique.charts import MAX_COLUMNS, number

from .elements import EUROS, POURCENT, Chiffre, Colonne, FigureTableau, LigneTableau, Section, part
from .perimetre import dans, entre, mois_de

TOTAUX_ATELIERS = (
    "tenues", "annulees", "places", "occupees", "attente", "promues", "presents", "inscrits_presents", "inscrits_appel",
)  # fmt: skip


def _court(months, index):
    """A month under its bar, as ``accompagnements.statistiques`` writes them: initials from nine to twelve bars,
    with the year under January and under the first bar (unless January follows it at once)."""
    month = months[index]
    initials = 8 < len(months) <= MAX_COLUMNS
    labels = stats_activites.MOIS_INITIALES if initials else stats_activites.MOIS_COURTS
    short = labels[month.month - 1]
    if month.month == 1 or (index == 0 and month.month != 12):
        return f"{short}\n{month.year}"
    return short


# --- Workshops -----------------------------------------------------------------------------------------------------
def _des_seances(du, au, perimetre, chemin=""):
    """The Q of the sessions of the period organised in the scope's structures, on the model of ``chemin``
    (« seance__ » from the registrations); those held in the scope's communes are ``_dans_les_communes``."""
    return entre(f"{chemin}debut", du, au) & dans(perimetre, f"{chemin}atelier__structure")


def _dans_les_communes(communes):
    """The Q of the sessions held in ``communes`` (at their stop, or at their place when they have no stop)."""
    return Q(arret__commune__in=communes) | Q(arret__isnull=True, lieu__commune__in=communes)


def section_ateliers(du, au, perimetre, *, now):
    """Sessions of the period in the scope (by organising structure, and commune of their place or stop), two
    queries: sessions per month, registrations per month."""
    seances = Seance.objects.filter(_des_seances(du, au, perimetre))
    if perimetre.communes is not None:
        seances = seances.filter(_dans_les_communes(perimetre.communes))
    tenue = Q(statut=StatutSeance.PLANIFIEE, debut__lte=now)
    par_mois = {
        mois_de(row.pop("mois")): row
        for row in seances.annotate(mois=TruncMonth("debut"))
        .values("mois")
        .annotate(
            tenues=Count("pk", filter=tenue),
            annulees=Count("pk", filter=Q(statut=StatutSeance.ANNULEE)),
            places=Sum("capacite", filter=tenue),
        )
        .order_by()
    }
    # Joined to their session once, for its filters and its month (not filtered on a sub-query of sessions and
    # joined again: a fifth of the time for the nation); the communes of a scope stay a sub-query of sessions (an OR
    # across the stop's and the place's joins, evaluated for each registration, took twice as long).
    des_seances = Inscription.objects.filter(
        _des_seances(du, au, perimetre, "seance__"), seance__statut=StatutSeance.PLANIFIEE, seance__debut__lte=now
    )
    if perimetre.communes is not None:
        des_seances = des_seances.filter(seance__in=seances.values("pk"))
    confirmee = Q(statut=StatutInscription.CONFIRMEE)
    inscrit = confirmee & ~Q(source=SourceInscription.SUR_PLACE)
    appel = Q(seance__appel_cloture_le__isnull=False)
    inscriptions = {
        mois_de(row.pop("mois")): row
        for row in des_seances.annotate(mois=TruncMonth("seance__debut"))
        .values("mois")
        .annotate(
            occupees=Count("pk", filter=inscrit),
            attente=Count("pk", filter=Q(statut=StatutInscription.ATTENTE)),
            promues=Count("pk", filter=confirmee & Q(promue_le__isnull=False)),
            presents=Count("pk", filter=confirmee & appel & Q(presence=Presence.PRESENT)),
            inscrits_presents=Count("pk", filter=inscrit & appel & Q(presence=Presence.PRESENT)),
            inscrits_appel=Count("pk", filter=inscrit & appel & ~Q(presence="")),
        )
        .order_by()
    }
    totals = dict.fromkeys(TOTAUX_ATELIERS, 0)
    lignes = []
    months = list(month_starts(du, au))
    for index, month in enumerate(months):
        row = {**(par_mois.get(month) or {}), **(inscriptions.get(month) or {})}
        for key in totals:
            totals[key] += row.get(key) or 0
        places, occupees = row.get("places") or 0, row.get("occupees") or 0
        lignes.append(
            LigneTableau(
                month.isoformat()[:7],
                month_label(month),
                row.get("tenues") or 0,
                short_label=_court(months, index),
                extras={
                    "places": places,
                    "occupees": occupees,
                    "remplissage": part(occupees, places),
                    "attente": (row.get("attente") or 0) + (row.get("promues") or 0),
                },
            )
        )
    t = totals
    remplissage = part(t["occupees"], t["places"])
    presence = part(t["inscrits_presents"], t["inscrits_appel"])
    cartes = [
        Chiffre(
            "seances_tenues",
            "Séances d'ateliers tenues",
            t["tenues"],
            "Les séances d'ateliers programmées sur la plateforme, commencées sur la période et non annulées (les "
            "séances à venir du mois en cours ne comptent pas encore).",
            detail=f"{number(t['annulees'])} annulée{'s' if t['annulees'] > 1 else ''}",
        ),
        Chiffre(
            "places_offertes",
            "Places offertes",
            t["places"],
            "La somme des places (capacité) des séances tenues.",
        ),
        Chiffre(
            "places_occupees",
            "Places occupées",
            t["occupees"],
            "Les inscriptions confirmées aux séances tenues, sans les personnes venues sans inscription (elles ne "
            "prennent pas de place).",
            personnes=True,
        ),
        Chiffre(
            "remplissage",
            "Taux de remplissage",
            remplissage,
            "Places occupées ÷ places offertes, sur les séances tenues.",
            format=POURCENT,
            masque_avec=("places_occupees",),
        ),
        Chiffre(
            "liste_attente",
            "Inscriptions en liste d'attente",
            t["attente"] + t["promues"],
            "Les inscriptions passées par la liste d'attente d'une séance tenue : celles restées en attente et celles "
            "qui ont obtenu une place libérée.",
            # Outside staff views the detail could give a small count back.
            detail="" if perimetre.public else f"dont {number(t['promues'])} ont obtenu une place",
            personnes=True,
        ),
        Chiffre(
            "presents",
            "Personnes présentes",
            t["presents"],
            "Les personnes notées présentes à l'appel des séances tenues dont l'appel est clos, personnes venues sans "
            "inscription comprises.",
            personnes=True,
        ),
        Chiffre(
            "presence",
            "Taux de présence",
            presence,
            "Parmi les personnes inscrites (hors venues sans inscription) aux séances dont l'appel est clos, la part "
            "de celles notées présentes.",
            format=POURCENT,
        ),
    ]
    colonnes = [Colonne("Places offertes", "places")]
    if not perimetre.public:
        colonnes += [
            Colonne("Places occupées", "occupees"),
            Colonne("Taux de remplissage", "remplissage", POURCENT),
            Colonne("Liste d'attente", "attente"),
        ]
    figure = FigureTableau(
        key="seances",
        title="Séances d'ateliers tenues par mois",
        dimension="Mois",
        unit="Séances tenues",
        unite_graphique="séances",
        vertical=True,
        lignes=lignes,
        colonnes=colonnes,
        how="Chaque mois compte les séances non annulées qui y ont commencé, avec leurs places, les inscriptions "
        "confirmées qui les occupent et les inscriptions passées par la liste d'attente.",
    )
    return Section("ateliers", "Ateliers collectifs", cartes, [figure])


# --- Pass numérique ------------------------------------------------------------------------------------------------
def section_pass(du, au, perimetre):
    """Passes handed out (by the distributors of the scope) and used (at the places of the scope's structures)
    during the period, per public, in one query."""
    remis = (
        Q(carnet__remis_le__gte=du, carnet__remis_le__lte=au)
        & ~Q(statut=StatutPass.ANNULE)
        & dans(perimetre, "carnet__distributeur", "carnet__distributeur__commune")
    )
    utilise = Q(utilise_le__gte=du, utilise_le__lte=au, statut__in=[StatutPass.UTILISE, StatutPass.REMBOURSE]) & dans(
        perimetre, "lieu__structure", "lieu__commune"
    )
    rows = list(
        PassNumerique.objects.filter(remis | utilise)
        .values("carnet__categorie")
        .annotate(
            remis=Count("pk", filter=remis),
            carnets=Count("carnet", filter=remis, distinct=True),
            utilises=Count("pk", filter=utilise),
            valeur=Sum("carnet__commande__valeur_faciale", filter=utilise),
        )
        .order_by()
    )
    total = {key: sum(row[key] or 0 for row in rows) for key in ("remis", "carnets", "utilises", "valeur")}
    cartes = [
        Chiffre(
            "remis",
            "Pass remis",
            total["remis"],
            "Les Pass numériques des carnets remis sur la période par les structures distributrices (pass annulés "
            "exclus).",
        ),
        Chiffre(
            "carnets",
            "Carnets remis",
            total["carnets"],
            "Chaque carnet est remis à une personne éligible (demandeur d'emploi ou senior).",
            personnes=True,
        ),
        Chiffre(
            "utilises",
            "Pass utilisés",
            total["utilises"],
            "Les Pass numériques encaissés sur la période par un lieu qualifié des structures, remboursés ou non.",
        ),
        Chiffre(
            "valeur",
            "Valeur des pass utilisés",
            Decimal(total["valeur"] or 0).quantize(Decimal("0.01")),
            "Le nombre de pass utilisés × leur valeur faciale.",
            format=EUROS,
        ),
    ]
    by_category = {row["carnet__categorie"] or "": row for row in rows}
    lignes = [
        LigneTableau(code or "non_renseigne", label, row["remis"], extras={"utilises": row["utilises"]})
        for code, label in [*CategoriePass.choices, ("", "Public non renseigné")]
        if (row := by_category.get(code))
    ]
    figure = FigureTableau(
        key="publics",
        title="Pass remis et utilisés par public",
        dimension="Public",
        unit="Pass remis",
        unite_graphique="pass",
        lignes=lignes,
        base=total["remis"],
        colonnes=[Colonne("Part", "part", POURCENT), Colonne("Pass utilisés", "utilises")],
        how="Le public est celui du carnet, noté à sa remise. Les pass utilisés sur la période peuvent venir de "
        "carnets remis plus tôt.",
    )
    return Section("pass", "Pass numérique", cartes, [figure])
