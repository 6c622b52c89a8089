"""Demo of the aidants network: eight aidants of the demo structures (mairie and CCAS agents, a social worker, a
librarian, a volunteer and a service civique), their trainings, two Aidants Connect habilitated professionals in the
habilitated structures (CCAS de Castanet-Tolosan, mairie de Ramonville), the demo aidant's account linked to their
record, and the médiathèque d'Escalquens' habilitation request awaiting validation.

Everything goes through ``aidants.services`` (rules and history). Loaded once: a territory that already has aidants
is left as it is.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from accounts.models import User
from aidants import services
from aidants.models import Aidant

DEMO_DOMAIN = "sicoval-numerique.example"

AIDANTS = [
    {
        "key": "alain",
        "structure": "ccas_castanet",
        "prenom": "Alain",
        "nom": "Aidant",
        "profession": "Agent d'accueil du CCAS",
        "type": "professionnel",
        "communes": ["31113", "31409"],
        "thematiques": ["aide_aux_demarches_administratives", "social_sante", "logement"],
        "formations": [("aidants_connect_14h", 14, 10), ("pix", 2, 9)],
        "habilite": True,
    },
    {
        "key": "nadia",
        "structure": "ccas_castanet",
        "prenom": "Nadia",
        "nom": "Benali",
        "profession": "Travailleuse sociale",
        "type": "professionnel",
        "communes": ["31113"],
        "thematiques": ["social_sante", "famille_scolarite", "argent_impots"],
        "formations": [("reseau", 3, 4)],
    },
    {
        "key": "sophie",
        "structure": "ramonville",
        "prenom": "Sophie",
        "nom": "Garrigues",
        "profession": "Secrétaire de mairie",
        "type": "professionnel",
        "communes": ["31446"],
        "thematiques": ["papiers_elections_citoyennete", "aide_aux_demarches_administratives"],
        "formations": [("aidants_connect_7h", 7, 14), ("pix", 2, 13)],
        "habilite": True,
    },
    {
        "key": "thomas",
        "structure": "ramonville",
        "prenom": "Thomas",
        "nom": "Vidal",
        "profession": "Agent d'accueil de la mairie",
        "type": "professionnel",
        "communes": ["31446"],
        "thematiques": ["papiers_elections_citoyennete", "transports_mobilite"],
        "formations": [],
    },
    {
        "key": "claire",
        "structure": "mediatheque_escalquens",
        "prenom": "Claire",
        "nom": "Lacombe",
        "profession": "Bibliothécaire",
        "type": "professionnel",
        "communes": ["31169", "31254"],
        "thematiques": ["navigation_sur_internet", "email", "culture_numerique"],
        "formations": [("aidants_connect_7h", 7, 2)],
    },
    {
        "key": "bernard",
        "structure": "asso",
        "prenom": "Bernard",
        "nom": "Escaich",
        "profession": "Bénévole",
        "type": "benevole",
        "communes": ["31048"],
        "thematiques": ["prendre_en_main_du_materiel", "email", "securite_numerique"],
        "formations": [("reseau", 3, 5)],
    },
    {
        "key": "yanis",
        "structure": "asso",
        "prenom": "Yanis",
        "nom": "Ferrer",
        "profession": "Volontaire en service civique",
        "type": "service_civique",
        "communes": ["31048", "31169"],
        "thematiques": ["prendre_en_main_du_materiel", "navigation_sur_internet"],
        "formations": [("pix", 2, 3)],
    },
    {
        "key": "martine",
        "structure": "montgiscard",
        "prenom": "Martine",
        "nom": "Sabatier",
        "profession": "Secrétaire de mairie",
        "type": "professionnel",
        "communes": ["31381"],
        "thematiques": ["aide_aux_demarches_administratives", "travail_formation"],
        "formations": [],
    },
]


def load_aidants_demo(*, structures, staff):
    """The aidants of the demo; returns those created (none the second time)."""
    if Aidant.objects.exists():
        return []
    today = timezone.localdate()
    created = {}
    for spec in AIDANTS:
        spec = dict(spec)
        key, structure = spec.pop("key"), structures[spec.pop("structure")]
        formations, habilite = spec.pop("formations"), spec.pop("habilite", False)
        slug = f"{spec['prenom']}.{spec['nom']}".lower().replace("'", "")
        aidant = services.aidant_create(by=staff, structure=structure, email=f"{slug}@{DEMO_DOMAIN}", **spec)
        for type_, heures, months_ago in formations:
            services.formation_add(
                aidant=aidant, by=staff, type=type_, heures=heures, date=today - relativedelta(months=months_ago)
            )
        if habilite:
            services.aidant_update(
                aidant=aidant,
                by=staff,
                habilite_aidants_connect=True,
                date_habilitation=today - relativedelta(months=6),
            )
        created[key] = aidant
    account = User.objects.filter(email=f"aidant@{DEMO_DOMAIN}").first()
    if account is not None:
        services.aidant_link_account(aidant=created["alain"], user=account, by=staff)
    # The médiathèque asks to be habilitated for its librarian, and the request awaits the decision.
    demande = services.demande_create(
        structure=structures["mediatheque_escalquens"],
        by=staff,
        aidants_pressentis=[created["claire"]],
        motif="Une bibliothécaire formée Aidants Connect (7 h) pour les démarches en ligne à la médiathèque.",
    )
    services.demande_transition(
        demande=demande, statut="en_attente", by=staff, date=today - datetime.timedelta(days=12)
    )
    _network_life(structures=structures, staff=staff, account=account)
    return list(created.values())


def _network_life(*, structures, staff, account):
    """The network at work: the next network meeting (invitations sent), a partnership in the coordination log, and
    a person of Pechbusque referred by Alain (CCAS) to Inès, waiting to be taken in charge."""
    from aidants.services_coordination import coordination_create
    from aidants.services_evenements import evenement_create, evenement_invite
    from aidants.services_orientations import orientation_create
    from conseillers.models import Conseiller
    from structures.models import Commune

    today = timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=16), datetime.time(9, 30)))
    reunion = evenement_create(
        by=staff,
        type="reunion",
        titre="Rencontre du réseau des aidants du Sicoval",
        description="Retours d'expérience, nouveautés des démarches en ligne, présentation du bus numérique.",
        debut=start,
        fin=start + datetime.timedelta(hours=2, minutes=30),
        adresse="Maison de la Bourgogne, 31520 Ramonville-Saint-Agne",
        public="reseau",
        capacite=30,
    )
    evenement_invite(evenement=reunion, by=staff)
    coordination_create(
        by=staff,
        type="partenariat",
        date=today - datetime.timedelta(days=20),
        intitule="Convention avec la CAF pour les démarches en ligne",
        echelle="intercommunale",
        structures_partenaires=[structures["ccas_castanet"], structures["ramonville"]],
        thematiques=["aide_aux_demarches_administratives"],
    )
    ines = Conseiller.objects.filter(user__email=f"conseiller@{DEMO_DOMAIN}").first()
    pechbusque = Commune.objects.filter(code_insee="31411").first()
    if account is not None and ines is not None and pechbusque is not None:
        orientation_create(
            by=account,
            thematiques=["aide_aux_demarches_administratives", "social_sante"],
            precision="Créer son compte Ameli et télécharger une attestation.",
            commune=pechbusque,
            prenom="Odile",
            telephone="05 61 00 22 33",
            contact_prefere="telephone",
            consentement=True,
            conseiller=ines,
        )
