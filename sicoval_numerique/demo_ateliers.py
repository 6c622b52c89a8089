"""Demo of the workshops: the Sicoval's prevention workshops for the general public, a training cycle for job seekers
and seniors payable with Pass numériques, and a session on the bus numérique; the coming six weeks of sessions, one
of them full with a waiting list, one cancelled, and one past session whose attendance is still to take.

Sessions are planned as a coordinator would (weekly cycles), registrations go through the registration service
(e-mails to the outbox). Loaded once: a territory that already has workshops is left as it is.
"""

import datetime
import uuid

from django.utils import timezone

from ateliers import services
from ateliers.models import Atelier, Seance, SourceInscription, StatutSeance
from structures.models import ArretItinerant

PEOPLE = [
    ("Martine", "Roques", "martine.roques@example.org", ""),
    ("Gérard", "Fabre", "", "06 12 34 56 78"),
    ("Sylvie", "Blanc", "sylvie.blanc@example.org", ""),
    ("Jean", "Marty", "jean.marty@example.org", ""),
    ("Odette", "Séguy", "", "05 61 00 11 22"),
    ("Paul", "Caussat", "paul.caussat@example.org", ""),
]

PROGRAMMES = [
    {
        "key": "arnaques",
        "structure": "sicoval",
        "titre": "Se protéger des arnaques en ligne",
        "description": "Faux messages, faux sites, appels frauduleux : reconnaître les pièges et savoir réagir.",
        "thematiques": ["securite_numerique"],
        "niveau": "debutant",
        "publics": ["tout_public", "seniors"],
        "prevention": True,
        "duree": 120,
    },
    {
        "key": "emploi",
        "structure": "sicoval",
        "titre": "Chercher un emploi en ligne",
        "description": "Créer son espace France Travail, déposer un CV, répondre à une offre. Formation payable en "
        "Pass numérique.",
        "thematiques": ["insertion_professionnelle", "email"],
        "niveau": "debutant",
        "publics": ["demandeurs_emploi"],
        "formation_pass": True,
        "duree": 180,
    },
    {
        "key": "tablette",
        "structure": "ramonville",
        "titre": "Premiers pas sur la tablette",
        "description": "Allumer, se connecter au wifi, installer une application, faire un appel vidéo.",
        "thematiques": ["prendre_en_main_du_materiel"],
        "niveau": "debutant",
        "publics": ["seniors"],
        "formation_pass": True,
        "duree": 120,
    },
]


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _cycle(atelier, *, first_day, hour, weeks, lieu=None, arret=None, capacite=10, animateur=None):
    serie = uuid.uuid4()
    sessions = []
    for week in range(weeks):
        debut = _at(first_day + datetime.timedelta(weeks=week), hour)
        seance = Seance(
            atelier=atelier,
            debut=debut,
            fin=debut + datetime.timedelta(minutes=atelier.duree),
            lieu=lieu,
            arret=arret,
            capacite=capacite,
            animateur=animateur,
            serie=serie,
        )
        seance.full_clean()
        seance.save()
        sessions.append(seance)
    return sessions


def _register(seance, people, *, by=None):
    for prenom, nom, email, telephone in people:
        services.inscription_create(
            seance=seance,
            data={"prenom": prenom, "nom": nom, "email": email, "telephone": telephone, "consentement": True},
            by=by,
            source=SourceInscription.TELEPHONE if by else SourceInscription.EN_LIGNE,
        )


def load_ateliers_demo(*, structures, lieux, staff, ines_user):
    """The workshops of the demo; returns the sessions created (none the second time)."""
    if Atelier.objects.exists():
        return []
    today = timezone.localdate()
    next_monday = today + datetime.timedelta(days=7 - today.weekday())
    ateliers = {}
    for spec in PROGRAMMES:
        spec = dict(spec)
        key, structure = spec.pop("key"), structures[spec.pop("structure")]
        atelier = Atelier(structure=structure, **spec)
        atelier._history_user = staff
        atelier.full_clean()
        atelier.save()
        ateliers[key] = atelier
    by_name = {lieu.nom: lieu for lieu in lieux}
    ramonville = by_name["Espace numérique de la mairie de Ramonville"]
    castanet = by_name["Point numérique du CCAS de Castanet-Tolosan"]
    sessions = []
    # Prevention: every Tuesday afternoon at Castanet (next to Pechbusque), the first one small and full.
    arnaques = _cycle(
        ateliers["arnaques"], first_day=next_monday + datetime.timedelta(days=1), hour=14, weeks=6, lieu=castanet,
        animateur=ines_user,
    )  # fmt: skip
    arnaques[0].capacite = 4
    arnaques[0].save(update_fields=["capacite"])
    _register(arnaques[0], PEOPLE[:5])  # 4 confirmed, 1 waiting
    _register(arnaques[1], PEOPLE[2:4])
    sessions += arnaques
    # Job seekers: Thursday mornings at Ramonville, a cycle of four.
    emploi = _cycle(
        ateliers["emploi"], first_day=next_monday + datetime.timedelta(days=3), hour=9, weeks=4, lieu=ramonville,
        capacite=8, animateur=ines_user,
    )  # fmt: skip
    _register(emploi[0], PEOPLE[1:3], by=staff)
    sessions += emploi
    # Tablets for seniors on the bus numérique, at its next stop.
    stop = ArretItinerant.objects.filter(date__gt=today).order_by("date", "heure_debut").first()
    if stop is not None:
        debut = _at(stop.date, stop.heure_debut.hour, stop.heure_debut.minute)
        seance = Seance(
            atelier=ateliers["tablette"],
            debut=debut,
            fin=debut + datetime.timedelta(minutes=120),
            arret=stop,
            capacite=6,
        )
        seance.full_clean()
        seance.save()
        sessions.append(seance)
    # A cancelled session, and yesterday's session whose attendance is to take.
    cancelled = arnaques[-1]
    cancelled.statut, cancelled.motif_annulation = StatutSeance.ANNULEE, "Salle indisponible"
    cancelled.save(update_fields=["statut", "motif_annulation"])
    # Registered the week before, held yesterday: planned ahead, then dated back to the day it took place.
    past = _cycle(ateliers["tablette"], first_day=today + datetime.timedelta(days=1), hour=14, weeks=1,
                  lieu=ramonville, capacite=8, animateur=ines_user)[0]  # fmt: skip
    _register(past, PEOPLE[3:6])
    yesterday = _at(today - datetime.timedelta(days=1), 14)
    Seance.objects.filter(pk=past.pk).update(debut=yesterday, fin=yesterday + datetime.timedelta(minutes=120))
    sessions.append(past)
    return sessions
