"""Demo of the activity log: six months of sessions and workshops of the territory's conseillers, with realistic
proportions (most sessions individual, in a place of activity, 30 to 60 minutes; e-mail, administrative procedures
and handling devices first), three people Inès follows by name with their consent, and one deleted activity.

Everything goes through the services, as a conseiller would type it. Deterministic (a fixed random seed) and loaded
once: a territory that already has activities is left as it is.
"""

import datetime
import random

from django.conf import settings
from django.utils import timezone

from accompagnements import choices as c
from accompagnements import services
from accompagnements.models import Activite
from conseillers.models import Conseiller
from structures.models import Commune, Lieu

THEMES = [
    ("email", 14),
    ("aide_aux_demarches_administratives", 14),
    ("prendre_en_main_du_materiel", 12),
    ("navigation_sur_internet", 9),
    ("securite_numerique", 7),
    ("sante", 6),
    ("banque_et_achats_en_ligne", 5),
    ("bureautique", 5),
    ("gere_ses_contenus_numeriques", 4),
    ("reseaux_sociaux", 3),
    ("insertion_professionnelle", 4),
    ("parentalite", 2),
    ("intelligence_artificielle", 2),
    ("diagnostic_numerique", 3),
]
DEMARCHES = ["social_sante", "argent_impots", "papiers_elections_citoyennete", "logement", "travail_formation"]
NOMS_DEMARCHES = ["Déclaration de revenus", "Dossier CAF", "Carte grise", "Compte Ameli", "Inscription France Travail"]
ATELIERS = [
    ("Premiers pas sur la tablette", ["prendre_en_main_du_materiel"], "debutant"),
    ("Se protéger des arnaques en ligne", ["securite_numerique"], "debutant"),
    ("Mon espace santé et Ameli", ["sante", "aide_aux_demarches_administratives", "social_sante"], "intermediaire"),
    ("Découvrir l'intelligence artificielle", ["intelligence_artificielle", "culture_numerique"], "intermediaire"),
]
PEOPLE = [
    ("Josette", "Pujol", 1948, "femme"),
    ("Ahmed", "Benali", 1961, "homme"),
    ("Lucie", "Fabre", 1990, "femme"),
]


def _weighted(rng, pairs):
    return rng.choices([code for code, _ in pairs], weights=[w for _, w in pairs])[0]


def _themes(rng):
    first = _weighted(rng, THEMES)
    themes = [first]
    if rng.random() < 0.3:
        other = _weighted(rng, THEMES)
        if other not in themes:
            themes.append(other)
    if c.AIDE_DEMARCHES in themes:
        themes.append(rng.choice(DEMARCHES))
    return themes


def _individuel(rng, day, lieux, communes):
    themes = _themes(rng)
    at_place = rng.random() < 0.75
    lieu = rng.choice(lieux) if at_place and lieux else None
    data = {
        "type": c.INDIVIDUEL,
        "date": day,
        "duree": rng.choice([15, 30, 30, 45, 45, 60, 60, 90, 120]),
        "type_lieu": c.LIEU_ACTIVITE if lieu else rng.choice([c.DOMICILE, c.A_DISTANCE, c.DOMICILE]),
        "lieu": lieu,
        "commune": rng.choice(communes),
        "thematiques": themes,
        "nom_demarche": rng.choice(NOMS_DEMARCHES) if c.AIDE_DEMARCHES in themes else "",
        "materiel": [rng.choice(["ordinateur", "telephone", "telephone", "tablette"])],
        "autonomie": rng.choice(
            ["entierement_accompagne", "partiellement_autonome", "partiellement_autonome", "autonome"]
        ),
        "oriente": rng.random() < 0.12,
    }
    if data["oriente"]:
        data["structure_redirection"] = rng.choice(
            ["administration", "aide_sociale", "aide_aux_demarches_administratives"]
        )
    anonyme = services.Participants(
        anonyme={
            "genre": rng.choice(["feminin", "feminin", "masculin", "non_communique"]),
            "tranche_age": rng.choice(
                [
                    "soixante_dix_plus",
                    "soixante_soixante_neuf",
                    "quarante_cinquante_neuf",
                    "vingt_cinq_trente_neuf",
                    "non_communique",
                ]
            ),
            "statut_social": rng.choice(["retraite", "retraite", "en_emploi", "sans_emploi", "non_communique"]),
            "commune_residence": rng.choice(communes),
        },
        deja_accompagne=rng.random() < 0.35,
    )
    return data, anonyme


def _atelier(rng, day, lieux):
    titre, themes, niveau = rng.choice(ATELIERS)
    total = rng.randint(4, 10)
    femmes = rng.randint(0, total)
    data = {
        "type": c.COLLECTIF,
        "date": day,
        "duree": rng.choice([90, 120, 120]),
        "type_lieu": c.LIEU_ACTIVITE,
        "lieu": rng.choice(lieux),
        "commune": None,
        "thematiques": list(themes),
        "materiel": ["tablette"] if "tablette" in titre else ["ordinateur"],
        "titre_atelier": titre,
        "niveau": niveau,
    }
    participants = services.Participants(
        anonymes=total,
        repartition={
            "genre": {"feminin": femmes, "masculin": total - femmes},
            "tranche_age": {"soixante_dix_plus": total // 2, "soixante_soixante_neuf": total - total // 2},
            "statut_social": {"retraite": total},
        },
    )
    return data, participants


def load_activites_demo(*, ines_user, staff):
    """About 300 activities over six months; returns how many were created (none the second time)."""
    if Activite.objects.exists():
        return 0
    rng = random.Random(2026)  # noqa: S311 — demo data, not security
    today = timezone.localdate()
    lieux = list(Lieu.objects.filter(is_active=True).order_by("pk"))
    communes = list(Commune.objects.filter(code_insee__in=["31446", "31113", "31157", "31025", "31429"]).order_by("pk"))
    communes = communes or list(Commune.objects.order_by("pk")[:5])
    conseillers = list(Conseiller.objects.filter(affectations__date_fin__isnull=True).distinct().order_by("pk"))
    created = 0
    ines = Conseiller.objects.filter(user=ines_user).first() if ines_user else None
    followed = []
    if ines is not None:
        for prenom, nom, year, _genre in PEOPLE:
            followed.append(
                services.beneficiaire_create(
                    by=ines_user,
                    data={
                        "prenom": prenom,
                        "nom": nom,
                        "annee_naissance": year,
                        "genre": "feminin" if _genre == "femme" else "masculin",
                        "tranche_age": "soixante_dix_plus"
                        if year < 1955
                        else ("soixante_soixante_neuf" if year < 1966 else "vingt_cinq_trente_neuf"),
                        "statut_social": "retraite" if year < 1966 else "en_emploi",
                        "commune_residence": communes[0],
                        "consentement": True,
                    },
                )
            )
    for conseiller in conseillers:
        by = conseiller.user or staff
        per_week = 6 if conseiller == ines else 2
        for week in range(25, -1, -1):
            monday = today - datetime.timedelta(days=today.weekday() + 7 * week)
            for _ in range(rng.randint(per_week - 2, per_week + 1)):
                day = monday + datetime.timedelta(days=rng.randint(0, 4))
                if day > today or day < settings.PROGRAMME_DATE_DEBUT:
                    continue
                if rng.random() < 0.15 and lieux:
                    data, participants = _atelier(rng, day, lieux)
                else:
                    data, participants = _individuel(rng, day, lieux, communes)
                    if followed and conseiller == ines and rng.random() < 0.12:
                        participants = services.Participants(beneficiaires=[rng.choice(followed)])
                services.activite_create(by=by, data=data, participants=participants, conseiller=conseiller)
                created += 1
    last = Activite.objects.filter(conseiller=ines).first() if ines else None
    if last is not None:
        services.activite_delete(activite=last, by=ines_user)
    return created
