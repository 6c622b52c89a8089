"""factory_boy factories shared by the whole suite."""

import datetime
import random

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from stdnum import luhn

from accounts.models import Role, User
from structures import choices
from structures.models import ArretItinerant, Commune, Epci, Lieu, Membership, Structure

PASSWORD = "mot-de-passe-de-test-42"


def valid_siret():
    """A random SIRET that passes the Luhn checks of both the SIREN and the whole number."""
    siren = "".join(random.choices("0123456789", k=8))
    siren += luhn.calc_check_digit(siren)
    body = siren + "".join(random.choices("0123456789", k=4))
    return body + luhn.calc_check_digit(body)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@example.org")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class StaffUserFactory(UserFactory):
    """Sicoval staff with TOTP already set up (``with_totp=False`` for one who has not)."""

    is_staff = True

    @factory.post_generation
    def with_totp(self, create, extracted, **kwargs):
        if create and extracted is not False:
            self.totp_secret = generate_totp_secret()
            TOTP.activate(self, self.totp_secret)


class EpciFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Epci
        django_get_or_create = ["siren"]

    siren = factory.Sequence(lambda n: f"2431{n:05d}")
    nom = factory.Sequence(lambda n: f"CC de test {n}")
    type = "CC"


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ["code_insee"]

    code_insee = factory.Sequence(lambda n: f"31{600 + n % 400:03d}")
    nom = factory.Sequence(lambda n: f"Commune {n}")
    codes_postaux = ["31320"]
    population = 1500
    departement = "31"
    epci = factory.SubFactory(EpciFactory)


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Structure

    nom = factory.Sequence(lambda n: f"Structure {n}")
    siret = factory.LazyFunction(valid_siret)
    type_juridique = choices.TypeJuridique.COMMUNE
    secteur = choices.Secteur.PUBLIC
    phase = 1
    commune = factory.SubFactory(CommuneFactory)
    adresse = "1 place de la Mairie"
    code_postal = "31320"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    structure = factory.SubFactory(StructureFactory)
    role = Role.REFERENT


class LieuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lieu

    structure = factory.SubFactory(StructureFactory)
    nom = factory.Sequence(lambda n: f"Espace numérique {n}")
    commune = factory.SelfAttribute("structure.commune")
    code_postal = "31320"
    adresse = "2 rue de l'Église"
    horaires = "Mo-Fr 09:00-12:00,14:00-18:00"
    services = ["Aide aux démarches administratives", "Maîtrise des outils numériques du quotidien"]
    frais_a_charge = ["Gratuit"]
    modalites_accompagnement = ["Accompagnement individuel"]


def lieu_tous_champs(*, structure, commune, **fields):
    """A place with every field of the national standard filled (every value of each vocabulary, multi-valued
    e-mails and sites, coordinates, OSM opening hours with quotes and line breaks in its texts): what exports and
    imports must carry whole."""

    def every(vocabulary):
        return [code for code, _label in vocabulary]

    values = {
        "nom": "Espace numérique de Labège",
        "code_postal": "31670",
        "adresse": "Place Saint-Barthélemy",
        "complement_adresse": "Bâtiment B, 1er étage",
        "latitude": Decimal("43.531200"),
        "longitude": Decimal("1.533800"),
        "typologie": ["MUNI", "EPN"],
        "telephone": "+33561000000",
        "courriels": ["numerique@ville-labege.fr", "accueil@ville-labege.fr"],
        "site_web": ["https://www.ville-labege.fr", "https://numerique.ville-labege.fr"],
        "horaires": "Mo-Fr 09:00-12:00,14:00-18:30; Sa 09:00-12:00; PH off",
        "presentation_resume": (
            "Accompagnement aux usages du numérique, « pas à pas » : démarches, courriels, sécurité."
        ),
        "presentation_detail": "Un conseiller numérique vous reçoit.\nSur rendez-vous ou en accès libre.",
        "source": "Sicoval",
        "structure_parente": "Sicoval",
        "services": every(choices.SERVICES),
        "publics_specifiquement_adresses": every(choices.PUBLICS_SPECIFIQUEMENT_ADRESSES),
        "prise_en_charge_specifique": every(choices.PRISE_EN_CHARGE_SPECIFIQUE),
        "frais_a_charge": every(choices.FRAIS_A_CHARGE),
        "dispositif_programmes_nationaux": every(choices.DISPOSITIF_PROGRAMMES_NATIONAUX),
        "formations_labels": every(choices.FORMATIONS_LABELS),
        "autres_formations_labels": "Formation interne Sicoval",
        "modalites_acces": every(choices.MODALITES_ACCES),
        "modalites_accompagnement": every(choices.MODALITES_ACCOMPAGNEMENT),
        "fiche_acces_libre": "https://acceslibre.beta.gouv.fr/app/31-labege/a/mairie/erp/mairie-labege/",
        "prise_rdv": "https://rdv.ville-labege.fr/numerique",
    }
    return LieuFactory(structure=structure, commune=commune, **{**values, **fields})


class ArretItinerantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArretItinerant

    lieu = factory.SubFactory(LieuFactory, itinerance=choices.Itinerance.ITINERANT)
    commune = factory.SubFactory(CommuneFactory)
    emplacement = "Parking de la mairie"
    date = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=7))
    heure_debut = datetime.time(9, 0)
    heure_fin = datetime.time(12, 0)


# --- financements
from decimal import Decimal  # noqa: E402


class FinanceurFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "financements.Financeur"
        django_get_or_create = ["nom"]

    nom = factory.Sequence(lambda n: f"Financeur {n}")
    type = "etat"


class ConventionFactory(factory.django.DjangoModelFactory):
    """A V1 agreement in preparation over 2022–2023 (financing over the same two years)."""

    class Meta:
        model = "financements.Convention"

    financeur = factory.SubFactory(FinanceurFactory)
    structure = factory.SubFactory(StructureFactory)
    enveloppe = "V1"
    date_debut = datetime.date(2022, 1, 1)
    date_fin = datetime.date(2023, 12, 31)
    date_debut_financement = factory.SelfAttribute("date_debut")
    date_fin_financement = factory.SelfAttribute("date_fin")


class _PosteForFinancementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "conseillers.Poste"

    typologie = "conum"
    structure = factory.SubFactory(StructureFactory)
    phase = 1
    date_attribution = datetime.date(2021, 6, 1)


class LigneFinancementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "financements.LigneFinancement"

    convention = factory.SubFactory(ConventionFactory)
    poste = factory.SubFactory(_PosteForFinancementFactory, structure=factory.SelfAttribute("..convention.structure"))
    montant_base = Decimal("50000.00")
    bonus_qpv_zrr = Decimal("0.00")
    montant_total = factory.LazyAttribute(lambda o: o.montant_base + o.bonus_qpv_zrr)


class VersementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "financements.Versement"

    ligne = factory.SubFactory(LigneFinancementFactory)
    numero = factory.Sequence(lambda n: n + 1)
    date_prevue = factory.SelfAttribute("ligne.convention.date_debut_financement")
    montant_prevu = Decimal("1000.00")


class _ConseillerForFinancementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "conseillers.Conseiller"

    prenom = factory.Faker("first_name", locale="fr_FR")
    nom = factory.Faker("last_name", locale="fr_FR")


class _ContratForFinancementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "conseillers.Contrat"

    conseiller = factory.SubFactory(_ConseillerForFinancementFactory)
    poste = factory.SubFactory(_PosteForFinancementFactory)
    type = "CDD"
    date_debut = datetime.date(2022, 1, 1)
    date_fin = datetime.date(2023, 12, 31)
    salaire_brut_mensuel = Decimal("2000.00")
    cout_employeur_mensuel = Decimal("3000.00")


# --- conseillers
from decimal import Decimal as _Decimal  # noqa: E402

from conseillers import choices as conseillers_choices  # noqa: E402


class PosteFactory(factory.django.DjangoModelFactory):
    """A vacant post with its first attachment, as ``poste_create`` makes it."""

    class Meta:
        model = "conseillers.Poste"
        skip_postgeneration_save = True

    typologie = conseillers_choices.Typologie.CONUM
    structure = factory.SubFactory(StructureFactory)
    phase = 1
    date_attribution = datetime.date(2021, 6, 1)
    rattachement = factory.RelatedFactory(
        "tests.factories.RattachementFactory",
        factory_related_name="poste",
        structure=factory.SelfAttribute("..structure"),
        date_debut=factory.SelfAttribute("..date_attribution"),
    )


class RattachementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "conseillers.Rattachement"

    poste = factory.SubFactory(PosteFactory, rattachement=None)
    structure = factory.SelfAttribute("poste.structure")
    date_debut = factory.SelfAttribute("poste.date_attribution")


class ConseillerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "conseillers.Conseiller"

    prenom = factory.Faker("first_name", locale="fr_FR")
    nom = factory.Faker("last_name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"conseiller{n}@example.org")


class MiseEnRelationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "conseillers.MiseEnRelation"

    conseiller = factory.SubFactory(ConseillerFactory)
    structure = factory.SubFactory(StructureFactory)


class ContratFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "conseillers.Contrat"

    conseiller = factory.SubFactory(ConseillerFactory)
    poste = factory.SubFactory(PosteFactory)
    type = conseillers_choices.TypeContrat.CDD
    date_debut = datetime.date(2022, 1, 1)
    date_fin = datetime.date(2023, 12, 31)
    salaire_brut_mensuel = _Decimal("2000.00")
    cout_employeur_mensuel = _Decimal("3000.00")


class FormationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "conseillers.Formation"

    conseiller = factory.SubFactory(ConseillerFactory)
    type = conseillers_choices.TypeFormation.CONTINUE
    intitule = "Module de formation continue"
    date_debut = datetime.date(2024, 3, 1)
    heures = 14


class AvenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "conseillers.Avenant"

    structure = factory.SubFactory(StructureFactory, phase=2)
    type = conseillers_choices.TypeAvenant.AJOUT
    typologie = conseillers_choices.Typologie.CONUM
    nombre_postes = 1
    date_demande = datetime.date(2024, 9, 1)


# --- ateliers
from django.utils import timezone as _tz  # noqa: E402

from ateliers.models import Atelier, Inscription, Seance  # noqa: E402


class AtelierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Atelier

    structure = factory.SubFactory(StructureFactory)
    titre = factory.Sequence(lambda n: f"Atelier {n}")
    description = "Découvrir les bases, à son rythme."
    thematiques = ["securite_numerique"]
    niveau = "debutant"
    publics = ["tout_public"]
    duree = 120


class SeanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seance

    atelier = factory.SubFactory(AtelierFactory)
    debut = factory.LazyFunction(lambda: (_tz.now() + datetime.timedelta(days=7)).replace(second=0, microsecond=0))
    fin = factory.LazyAttribute(lambda o: o.debut + datetime.timedelta(minutes=120))
    lieu = factory.SubFactory(LieuFactory, structure=factory.SelfAttribute("..atelier.structure"))
    capacite = 12


class InscriptionFactory(factory.django.DjangoModelFactory):
    """A registration written directly (tests of the services use ``ateliers.services.inscription_create``)."""

    class Meta:
        model = Inscription

    seance = factory.SubFactory(SeanceFactory)
    prenom = factory.Faker("first_name", locale="fr_FR")
    nom = factory.Faker("last_name", locale="fr_FR")
    email = factory.Sequence(lambda n: f"public{n}@example.org")
    cle_personne = factory.LazyAttribute(lambda o: f"email:{o.email}")
    statut = "confirmee"
    rang = factory.Sequence(lambda n: n + 1)
    consentement_le = factory.LazyFunction(_tz.now)
