"""A realistic demo of the Sicoval: structures in real communes, places with opening hours, the itinerant bus and
its stops, and one login per role. Idempotent: running it twice changes nothing.

Communes and SIRENs of public bodies are real (reference data); establishment numbers (NIC) and the associations'
identifiers are made up for the demo but valid (Luhn), so that they pass the same checks as real data.
"""

import datetime

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone
from stdnum import luhn
from stdnum.fr import siret as siret_module

from accompagnements.models import Activite
from accounts.models import Role, User
from financements.reference import load_baremes
from structures import choices
from structures.models import ArretItinerant, Commune, Lieu, Membership, Structure
from structures.territoire import load_bundled

from .demo_activites import load_activites_demo
from .demo_aidants import load_aidants_demo
from .demo_ateliers import load_ateliers_demo
from .demo_imports import load_imports_demo
from .demo_partenaires import load_partenaires_demo
from .demo_postes import load_postes_demo

DEMO_PASSWORD = "Sicoval-demo-2026"  # noqa: S105 - printed on purpose: demo logins only, refused in production
DEMO_DOMAIN = "sicoval-numerique.example"


def siret_for(siren):
    """The first valid SIRET of a SIREN (a 9-digit SIREN, or 8 digits to complete with their Luhn key)."""
    if len(siren) == 8:
        siren += luhn.calc_check_digit(siren)
    for nic in range(10, 100000):
        candidate = f"{siren}{nic:05d}"
        if siret_module.is_valid(candidate):
            return candidate
    raise ValueError(siren)


S = choices.StatutCandidature
C = choices.Conventionnement
T = choices.TypeJuridique

STRUCTURES = [
    {
        "key": "sicoval",
        "nom": "Communauté d'agglomération du Sicoval",
        "siren": "243100633",
        "type_juridique": T.EPCI,
        "commune": "31254",
        "adresse": "110 rue Marco Polo",
        "code_postal": "31670",
        "statut": S.VALIDATION_COSELEC,
        "conventionnement": C.CONVENTIONNEMENT_VALIDE,
        "roles": ["accueille_conseillers", "reseau_aidants", "distributeur_pass"],
        "contact_nom": "Service inclusion numérique",
        "contact_email": f"inclusion-numerique@{DEMO_DOMAIN}",
    },
    {
        "key": "ramonville",
        "nom": "Mairie de Ramonville-Saint-Agne",
        "commune_siren": True,
        "type_juridique": T.COMMUNE,
        "commune": "31446",
        "adresse": "Place Charles de Gaulle",
        "code_postal": "31520",
        "statut": S.VALIDATION_COSELEC,
        "conventionnement": C.RECONVENTIONNEMENT_EN_COURS,
        "roles": ["accueille_conseillers", "habilitee_aidants_connect", "reseau_aidants"],
        "qpv": True,
    },
    {
        "key": "ccas_castanet",
        "nom": "CCAS de Castanet-Tolosan",
        "siren": "26310113",
        "type_juridique": T.CCAS_CIAS,
        "commune": "31113",
        "adresse": "29 avenue de Toulouse",
        "code_postal": "31320",
        "statut": S.VALIDATION_COSELEC,
        "conventionnement": C.CONVENTIONNEMENT_VALIDE,
        "roles": ["accueille_conseillers", "habilitee_aidants_connect", "reseau_aidants", "lieu_qualifie_pass"],
    },
    {
        "key": "mediatheque_escalquens",
        "nom": "Médiathèque d'Escalquens",
        "commune_siren": True,
        "type_juridique": T.MEDIATHEQUE,
        "commune": "31169",
        "adresse": "Place François Mitterrand",
        "code_postal": "31750",
        "statut": S.EXAMEN_COMPLEMENTAIRE_COSELEC,
        "conventionnement": C.NON_INTERESSE,
        "roles": ["lieu_qualifie_pass", "reseau_aidants"],
    },
    {
        "key": "asso",
        "nom": "Lauragais Numérique Solidaire",
        "rna": "W313009876",
        "type_juridique": T.ASSOCIATION,
        "commune": "31048",
        "adresse": "12 rue de la République",
        "code_postal": "31450",
        "statut": S.VALIDATION_COSELEC,
        "conventionnement": C.CONVENTIONNEMENT_VALIDE_PHASE_2,
        "roles": ["accueille_conseillers", "reseau_aidants", "lieu_qualifie_pass"],
    },
    {
        "key": "montgiscard",
        "nom": "Mairie de Montgiscard",
        "commune_siren": True,
        "type_juridique": T.COMMUNE,
        "commune": "31381",
        "adresse": "1 place de la Mairie",
        "code_postal": "31450",
        "statut": S.CREEE,
        "conventionnement": C.NON_INTERESSE,
        "roles": ["reseau_aidants"],
        "zrr": True,
    },
    {
        "key": "departement",
        "nom": "Département de la Haute-Garonne",
        "siren": "223100017",
        "type_juridique": T.DEPARTEMENT,
        "commune": "31555",
        "adresse": "1 boulevard de la Marquette",
        "code_postal": "31000",
        "statut": S.VALIDATION_COSELEC,
        "conventionnement": C.CONVENTIONNEMENT_VALIDE,
        "roles": [],
    },
]

ALL_SERVICES = [value for value, _label in choices.SERVICES]

LIEUX = [
    {
        "structure": "sicoval",
        "nom": "Bus numérique du Sicoval",
        "commune": "31254",
        "adresse": "110 rue Marco Polo",
        "code_postal": "31670",
        "latitude": "43.546470",
        "longitude": "1.511970",
        "itinerance": choices.Itinerance.ITINERANT,
        "typologie": ["EPCI"],
        "telephone": "+33562242800",
        "horaires": "Tu-Fr 09:00-12:00,14:00-17:00",
        "presentation_resume": (
            "Le bus numérique sillonne les communes du Sicoval : un conseiller numérique vous accompagne "
            "au plus près de chez vous, sans rendez-vous."
        ),
        "services": [
            "Aide aux démarches administratives",
            "Maîtrise des outils numériques du quotidien",
            "Utilisation sécurisée du numérique",
            "Accès internet et matériel informatique",
        ],
        "frais_a_charge": ["Gratuit"],
        "dispositif_programmes_nationaux": ["Conseillers numériques"],
        "modalites_acces": ["Se présenter", "Téléphoner"],
        "modalites_accompagnement": ["Accompagnement individuel", "Dans un atelier collectif"],
        "publics_specifiquement_adresses": ["Seniors"],
    },
    {
        "structure": "ramonville",
        "nom": "Espace numérique de la mairie de Ramonville",
        "commune": "31446",
        "adresse": "Place Charles de Gaulle",
        "code_postal": "31520",
        "latitude": "43.545960",
        "longitude": "1.475560",
        "typologie": ["MUNI", "EPN"],
        "telephone": "+33561754400",
        "courriels": [f"numerique@{DEMO_DOMAIN}"],
        "horaires": "Mo-Fr 09:00-12:00,14:00-18:00; Sa 09:00-12:00",
        "presentation_resume": "Accompagnement individuel sur rendez-vous et ateliers collectifs en petits groupes.",
        "services": ALL_SERVICES[:6],
        "frais_a_charge": ["Gratuit"],
        "dispositif_programmes_nationaux": ["Conseillers numériques", "Aidants Connect"],
        "modalites_acces": ["Téléphoner", "Prendre un RDV en ligne"],
        "modalites_accompagnement": ["Accompagnement individuel", "Dans un atelier collectif", "En autonomie"],
        "prise_en_charge_specifique": ["Surdité", "Handicaps moteurs"],
    },
    {
        "structure": "ccas_castanet",
        "nom": "Point numérique du CCAS de Castanet-Tolosan",
        "commune": "31113",
        "adresse": "29 avenue de Toulouse",
        "code_postal": "31320",
        "typologie": ["CCAS"],
        "horaires": "Mo,Tu,Th 09:00-12:00; We 14:00-17:00; PH off",
        "presentation_resume": "Aide aux démarches en ligne (CAF, impôts, retraite, santé) avec un aidant habilité.",
        "services": ["Aide aux démarches administratives", "Accès internet et matériel informatique"],
        "frais_a_charge": ["Gratuit"],
        "dispositif_programmes_nationaux": ["Aidants Connect", "Point d'accès numérique CAF"],
        "modalites_acces": ["Se présenter", "Téléphoner"],
        "modalites_accompagnement": ["Accompagnement individuel"],
        "publics_specifiquement_adresses": ["Seniors", "Familles et/ou enfants"],
    },
    {
        "structure": "mediatheque_escalquens",
        "nom": "Médiathèque d'Escalquens — espace multimédia",
        "commune": "31169",
        "adresse": "Place François Mitterrand",
        "code_postal": "31750",
        "typologie": ["BIB"],
        "horaires": "Tu 14:00-18:00; We 10:00-12:30,14:00-18:00; Fr 14:00-18:00; Sa 10:00-12:30",
        "presentation_resume": "Postes en libre accès, impression et ateliers découverte du numérique.",
        "services": [
            "Accès internet et matériel informatique",
            "Loisirs et créations numériques",
            "Compréhension du monde numérique",
        ],
        "frais_a_charge": ["Gratuit sous condition"],
        "modalites_acces": ["Se présenter"],
        "modalites_accompagnement": ["En autonomie", "Dans un atelier collectif"],
        "publics_specifiquement_adresses": ["Jeunes", "Étudiants"],
    },
    {
        "structure": "asso",
        "nom": "Atelier numérique solidaire de Baziège",
        "commune": "31048",
        "adresse": "12 rue de la République",
        "code_postal": "31450",
        "typologie": ["ASSO", "TIERS_LIEUX"],
        "horaires": "Mo 14:00-18:00; Th 09:00-12:00,14:00-18:00",
        "presentation_resume": "Ateliers d'initiation et ordinateurs reconditionnés à prix solidaire.",
        "services": [
            "Maîtrise des outils numériques du quotidien",
            "Acquisition de matériel informatique à prix solidaire",
            "Insertion professionnelle via le numérique",
        ],
        "frais_a_charge": ["Gratuit", "Payant"],
        "modalites_acces": ["Se présenter", "Contacter par mail"],
        "courriels": [f"contact@lauragais-numerique.{DEMO_DOMAIN}"],
        "modalites_accompagnement": ["Dans un atelier collectif", "Accompagnement individuel"],
    },
]

# The bus's weekly round: (weekday 1=Tuesday… , commune, place).
BUS_ROUND = [
    (1, "31025", "Parking de la mairie"),
    (2, "31151", "Place du village"),
    (3, "31429", "Salle des fêtes"),
    (4, "31448", "Devant l'école"),
]

USERS = [
    {"email": f"coordination@{DEMO_DOMAIN}", "first_name": "Camille", "last_name": "Coordination", "staff": True},
    {
        "email": f"referent@{DEMO_DOMAIN}",
        "first_name": "Rémi",
        "last_name": "Référent",
        "role": (Role.REFERENT, "ramonville"),
    },
    {
        "email": f"conseiller@{DEMO_DOMAIN}",
        "first_name": "Inès",
        "last_name": "Conseillère",
        "role": (Role.CONSEILLER, "ramonville"),
    },
    {
        "email": f"aidant@{DEMO_DOMAIN}",
        "first_name": "Alain",
        "last_name": "Aidant",
        "role": (Role.AIDANT, "ccas_castanet"),
    },
    {
        "email": f"financeur@{DEMO_DOMAIN}",
        "first_name": "Fanny",
        "last_name": "Financeur",
        "role": (Role.FINANCEUR, "departement"),
    },
]


def _structures(communes):
    by_key = {}
    for spec in STRUCTURES:
        spec = dict(spec)
        key = spec.pop("key")
        commune = communes[spec.pop("commune")]
        identifiers = {}
        if spec.pop("commune_siren", False):
            identifiers["siret"] = siret_for(commune.siren)
        if "siren" in spec:
            identifiers["siret"] = siret_for(spec.pop("siren"))
        if "rna" in spec:
            identifiers["rna"] = spec.pop("rna")
        roles = spec.pop("roles")
        public = spec["type_juridique"] in choices.PUBLIC_TYPES
        defaults = {
            **spec,
            "commune": commune,
            "secteur": choices.Secteur.PUBLIC if public else choices.Secteur.PRIVE,
            "phase": 1 if public else 2,
            **dict.fromkeys(roles, True),
        }
        lookup = {"siret": identifiers["siret"]} if "siret" in identifiers else {"rna": identifiers["rna"]}
        structure, _ = Structure.objects.get_or_create(**lookup, defaults={**defaults, **identifiers})
        by_key[key] = structure
    return by_key


def _lieux(structures, communes):
    lieux = []
    for spec in LIEUX:
        spec = dict(spec)
        structure = structures[spec.pop("structure")]
        commune = communes[spec.pop("commune")]
        lieu, _ = Lieu.objects.get_or_create(
            structure=structure, nom=spec.pop("nom"), defaults={**spec, "commune": commune, "source": "Sicoval"}
        )
        lieux.append(lieu)
    return lieux


def _bus_stops(bus, communes):
    """Eight weeks of the bus's round, created once (a bus that already has future stops is left as it is)."""
    today = timezone.localdate()
    if bus.arrets.filter(date__gte=today).exists():
        return 0
    monday = today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(days=7)
    stops = []
    for week in range(8):
        for weekday, insee, emplacement in BUS_ROUND:
            stops.append(
                ArretItinerant(
                    lieu=bus,
                    commune=communes[insee],
                    emplacement=emplacement,
                    date=monday + datetime.timedelta(weeks=week, days=weekday),
                    heure_debut=datetime.time(9, 30),
                    heure_fin=datetime.time(12, 30),
                )
            )
    ArretItinerant.objects.bulk_create(stops)
    return len(stops)


def _users(structures):
    created = []
    for spec in USERS:
        user, was_created = User.objects.get_or_create(
            email=spec["email"],
            defaults={
                "first_name": spec["first_name"],
                "last_name": spec["last_name"],
                "is_staff": spec.get("staff", False),
            },
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
        if "role" in spec:
            role, key = spec["role"]
            Membership.objects.get_or_create(user=user, structure=structures[key], role=role)
        created.append(user)
    return created


@transaction.atomic
def load_demo(*, activites=True):
    """The demo territory. ``activites=False`` leaves out the six months of activity log (a few seconds of
    writing), for tests that do not read it."""
    load_bundled()
    load_baremes()  # present since the migrations, unless a test run has emptied the tables
    needed = {s["commune"] for s in STRUCTURES} | {lieu["commune"] for lieu in LIEUX} | {c for _d, c, _e in BUS_ROUND}
    communes = {c.code_insee: c for c in Commune.objects.filter(code_insee__in=needed)}
    structures = _structures(communes)
    lieux = _lieux(structures, communes)
    stops = _bus_stops(lieux[0], communes)
    users = _users(structures)
    staff = next(user for user in users if user.is_staff)
    postes = load_postes_demo(structures=structures, staff=staff)
    ines = next((user for user in users if user.email == f"conseiller@{DEMO_DOMAIN}"), None)
    activites = load_activites_demo(ines_user=ines, staff=staff) if activites else 0
    imports = load_imports_demo(staff=staff, structure_rattachement=structures["sicoval"]) if activites else []
    rapport = _rapport_demo() if Activite.objects.exists() else None
    seances = load_ateliers_demo(structures=structures, lieux=lieux, staff=staff, ines_user=ines)
    load_aidants_demo(structures=structures, staff=staff)
    client_api = load_partenaires_demo(structures=structures, staff=staff)
    return {
        "activites": activites,
        "seances": seances,
        "structures": structures,
        "lieux": lieux,
        "stops": stops,
        "users": users,
        "postes": postes,
        "client_api": client_api,
        "rapport": rapport,
        "imports": imports,
    }


def _rapport_demo():
    """Last month's territorial report in the archive, as the 1st of the month leaves it (built; the e-mails to
    staff and funders are the beat's job)."""
    from reporting import rapports
    from reporting.models import Rapport, StatutRapport, TypeRapport

    du, au = rapports.mois_precedent(timezone.localdate())
    rapport, _created = Rapport.objects.get_or_create(type=TypeRapport.MENSUEL, du=du, au=au)
    if rapport.statut != StatutRapport.PRET:
        rapports.rapport_construire(rapport)
    return rapport
