"""The activity log's sections: accompaniments of the dashboard, and the public page's headline figures. Both read
``reporting.resume.statistiques`` only, never the activity tables."""

from dataclasses import fields

from django.utils import timezone

from accompagnements import statistiques as stats_activites
from conseillers.selectors import postes_counts_at
from sicoval_numerique.charts import number
from structures.models import Commune, Lieu
from structures.selectors import communes_territoire

from .. import resume
from .elements import (
    DECIMAL,
    DUREE,
    MASQUE,
    NOMBRE,
    NON_DIFFUSE,
    POURCENT,
    Chiffre,
    Colonne,
    FigureTableau,
    Ligne,
    LigneTableau,
    Section,
    Tableau,
    depuis,
    petit_nombre,
    proteger,
)
from .perimetre import Perimetre, jour_de_fin

# --- Accompaniments ------------------------------------------------------------------------------------------------
# An individual activity is one person: activity counts are counts of people too.
PERSONNES_ACTIVITES = {"accompagnements", "activites", "individuels", "nouveaux", "deja_accompagnes"}
GROUPES_ACTIVITES = {"nouveaux": "nouveaux", "deja_accompagnes": "nouveaux"}
MASQUES_ENSEMBLE = {"individuels", "activites"}
# The communes a dashboard details (the Sicoval's 36 and its neighbours fit; the nation's thousands do not).
COMMUNES_AFFICHEES = 50


def _cartes_activites(stats, public):
    """The key numbers of ``accompagnements.statistiques``. Accompaniments = individual ones + workshop participants
    (a detail of the workshops' card), and activities = individual ones + workshops: outside staff views, when
    individual accompaniments or participants are few, they and the activities are hidden together."""
    n = stats.chiffres
    masquer_types = public and (petit_nombre(n["individuels"]) or petit_nombre(n["participants_ateliers"]))
    cartes = []
    for carte in stats.cartes:
        detail = carte.detail
        if carte.key == "collectifs" and masquer_types:
            detail = "participants non détaillés"
        cartes.append(
            Chiffre(
                carte.key,
                carte.label,
                carte.value,
                carte.how,
                duree=carte.duree,
                detail=detail,
                format=DUREE if carte.duree else NOMBRE,
                personnes=carte.key in PERSONNES_ACTIVITES,
                groupe=GROUPES_ACTIVITES.get(carte.key, ""),
                masque=_masque_type(carte.value) if masquer_types and carte.key in MASQUES_ENSEMBLE else "",
            )
        )
    return cartes


def _masque_type(value):
    return MASQUE if petit_nombre(value) else NON_DIFFUSE


def _figure_types(n):
    return FigureTableau(
        key="types",
        title="Accompagnements individuels et collectifs",
        dimension="Type d'activité",
        unit="Accompagnements",
        unite_graphique="accompagnements",
        lignes=[
            Ligne("individuel", "Accompagnements individuels", n["individuels"], activites=n["individuels"]),
            Ligne(
                "collectif",
                "Participants des ateliers collectifs",
                n["participants_ateliers"],
                activites=n["collectifs"],
            ),
        ],
        base=n["accompagnements"],
        personnes=True,
        colonnes=[Colonne("Activités", "activites"), Colonne("Part", "part", POURCENT)],
        how="Un accompagnement individuel compte une personne ; un atelier collectif compte un accompagnement par "
        "participant (la colonne « Activités » le compte une fois). La part est rapportée à l'ensemble des "
        f"accompagnements. {stats_activites.SUPPRIMEES}",
    )


def _figure_nouveaux(n):
    return FigureTableau(
        key="nouveaux",
        title="Nouveaux bénéficiaires et bénéficiaires déjà accompagnés",
        dimension="Bénéficiaires",
        unit="Accompagnements",
        unite_graphique="accompagnements",
        lignes=[
            Ligne("nouveaux", "Accompagnés pour la première fois", n["nouveaux"]),
            Ligne("deja_accompagnes", "Déjà accompagnés", n["deja_accompagnes"]),
        ],
        base=n["accompagnements"],
        personnes=True,
        colonnes=[Colonne("Part", "part", POURCENT)],
        how="Un accompagnement compte « première fois » pour un bénéficiaire suivi à son premier accompagnement, une "
        "personne anonyme quand « déjà accompagnée » n'était pas coché, et chaque participant anonyme d'un atelier ; "
        "sinon « déjà accompagné » (une personne revenue trois fois compte trois fois).",
    )


def _premieres_communes(figure):
    """The ``COMMUNES_AFFICHEES`` communes with the most accompaniments, then the others as one row, then the
    activities without commune: a national dashboard counts thousands of communes (``resume.statistiques`` sums
    the others already, in the row ``resume.AUTRES``)."""
    sans = [ligne for ligne in figure.lignes if ligne.code == "sans"]
    deja = [ligne for ligne in figure.lignes if ligne.code == resume.AUTRES]
    communes = [ligne for ligne in figure.lignes if ligne.code not in ("sans", resume.AUTRES)]
    premieres, autres = communes[:COMMUNES_AFFICHEES], communes[COMMUNES_AFFICHEES:]
    if deja and not autres:
        premieres += deja
    elif autres:
        # A hidden count stays hidden in the sum of the others.
        valeurs = [ligne.value for ligne in autres]
        total = None if None in valeurs else sum(valeurs)
        part = 100 * total / figure.base if total is not None and figure.base else None
        premieres.append(Ligne("autres", f"Autres communes ({len(autres)})", total, part))
    return premieres + sans


def _figure_communes(figure):
    """Accompaniments per commune, with the rate per 1,000 inhabitants of the commune (one query)."""
    lignes_affichees = _premieres_communes(figure)
    codes = [ligne.code for ligne in lignes_affichees]
    populations = dict(Commune.objects.filter(code_insee__in=codes).values_list("code_insee", "population"))
    lignes = []
    for ligne in lignes_affichees:
        population = populations.get(ligne.code)
        extras = {
            "population": population,
            "pour_mille": round(1000 * ligne.value / population, 1) if population and ligne.value else None,
        }
        lignes.append(LigneTableau(**{f.name: getattr(ligne, f.name) for f in fields(Ligne)}, extras=extras))
    return depuis(
        figure,
        lignes=lignes,
        colonnes=[
            Colonne("Part", "part", POURCENT),
            Colonne("Habitants", "population"),
            Colonne("Pour 1 000 habitants", "pour_mille", DECIMAL),
        ],
        how=f"{figure.how} Les {COMMUNES_AFFICHEES} communes qui comptent le plus d'accompagnements sont détaillées, "
        "les autres regroupées sur une ligne (l'API des statistiques et l'export des activités les donnent toutes). "
        "La colonne « Pour 1 000 habitants » rapporte les accompagnements à la population légale "
        "de la commune (vide pour les activités sans commune et les communes dont la population n'est pas connue).",
    )


def section_accompagnements(du, au, perimetre):
    stats = resume.statistiques(
        du,
        au,
        structures=perimetre.structures,
        communes=None if perimetre.departement else perimetre.communes,
        departement=perimetre.departement,
        communes_detaillees=COMMUNES_AFFICHEES,
    )
    public = perimetre.public
    figures = [
        # Outside staff and référent views, a month's activities could give back a hidden count of people.
        depuis(stats.figure("mois"), personnes=public, **({"colonnes": []} if public else {})),
        depuis(stats.figure("thematiques"), personnes=public),
        depuis(stats.figure("lieux"), personnes=public),
        _figure_communes(stats.figure("communes")),
        _figure_types(stats.chiffres),
        _figure_nouveaux(stats.chiffres),
    ]
    return Section(
        "accompagnements",
        "Accompagnements",
        _cartes_activites(stats, public),
        figures,
        note="Le journal d'activité des conseillers numériques (comptes rendus d'activité).",
    )


# --- The public page -----------------------------------------------------------------------------------------------
def statistiques_publiques(du, au, *, today=None):
    """The headline figures of the territory for the public page, every count of people from 1 to 4 hidden (a
    fixed number of queries: activities 5, communes of the territory 2, places 1, posts 1)."""
    today = today or timezone.localdate()
    stats = resume.statistiques(du, au)
    n = stats.chiffres
    masquer_types = petit_nombre(n["individuels"]) or petit_nombre(n["participants_ateliers"])
    territoire = set(communes_territoire().values_list("code_insee", flat=True))
    lieux = Lieu.objects.filter(is_active=True, commune__code_insee__in=territoire).count()
    postes = postes_counts_at(jour_de_fin(au, today))
    touchees = sum(1 for ligne in stats.figure("communes").lignes if ligne.value and ligne.code in territoire)
    cartes = [
        Chiffre(
            "accompagnements",
            "Accompagnements",
            n["accompagnements"],
            stats_activites.CARTES[0][2],
            personnes=True,
        ),
        Chiffre(
            "activites",
            "Activités",
            n["activites"],
            stats_activites.CARTES[1][2],
            personnes=True,
            # Activities − workshops = individual accompaniments: hidden with them.
            masque=_masque_type(n["activites"]) if masquer_types else "",
        ),
        Chiffre(
            "ateliers",
            "Ateliers collectifs",
            n["collectifs"],
            "Les ateliers collectifs animés par les conseillers numériques, chacun une fois.",
        ),
        Chiffre(
            "participants",
            "Participants aux ateliers",
            n["participants_ateliers"],
            "Les participants des ateliers collectifs : une personne venue à deux ateliers compte deux fois.",
            personnes=True,
            # Accompaniments − participants = individual accompaniments: hidden when that is small.
            masque=_masque_type(n["participants_ateliers"]) if masquer_types else "",
        ),
        Chiffre(
            "conseillers",
            "Conseillers numériques en poste",
            postes["occupied"],
            f"Les postes de conseiller numérique et de coordinateur occupés le {postes['date']:%d/%m/%Y}.",
            personnes=True,
        ),
        Chiffre(
            "lieux",
            "Lieux de médiation numérique",
            lieux,
            "Les lieux de médiation numérique publiés dans les communes du territoire, aujourd'hui.",
        ),
        Chiffre(
            "communes",
            "Communes touchées",
            touchees,
            "Les communes du territoire où s'est tenue au moins une activité sur la période (hors activités à "
            "distance).",
            detail=f"sur {number(len(territoire))}",
        ),
    ]
    figures = [
        depuis(stats.figure("mois"), personnes=True, colonnes=[]),
        depuis(stats.figure("thematiques"), personnes=True),
    ]
    proteger(cartes, figures)
    perimetre = Perimetre(public=True)
    section = Section("territoire", "Le territoire en chiffres", cartes, figures)
    return Tableau(du=du, au=au, perimetre=perimetre, sections=[section])
