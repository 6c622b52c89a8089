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


class ArretItinerantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArretItinerant

    lieu = factory.SubFactory(LieuFactory, itinerance=choices.Itinerance.ITINERANT)
    commune = factory.SubFactory(CommuneFactory)
    emplacement = "Parking de la mairie"
    date = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=7))
    heure_debut = datetime.time(9, 0)
    heure_fin = datetime.time(12, 0)
