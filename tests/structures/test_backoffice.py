"""Back-office pages of structures and places: scoping by role, status workflow, duplicates, places and their stops,
and the query budget of the lists."""

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from accounts.models import Role
from structures import choices
from structures.models import ArretItinerant, Lieu, Membership, Structure
from tests import factories

pytestmark = pytest.mark.django_db

BAD_KEY_SIRET = "24310063300012"  # 14 digits, wrong Luhn key


def text(response):
    return html.unescape(response.content.decode())


def plain_text(response):
    """The page as read, without tags and with collapsed spaces."""
    return " ".join(strip_tags(text(response)).split())


def detail_url(structure):
    return reverse("structures:detail", args=[structure.uuid])


def edit_url(structure):
    return reverse("structures:edit", args=[structure.uuid])


def statut_url(structure):
    return reverse("structures:statut", args=[structure.uuid])


def lieu_edit_url(lieu):
    return reverse("structures:lieu_edit", args=[lieu.uuid])


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def referent_client(client, referent):
    return client_for(client, referent)


@pytest.fixture
def financeur(db):
    return factories.MembershipFactory(role=Role.FINANCEUR).user


@pytest.fixture
def financeur_client(client, financeur):
    return client_for(client, financeur)


def structure_data(commune, **overrides):
    data = {
        "nom": "Médiathèque de Labège",
        "siret": factories.valid_siret(),
        "type_juridique": choices.TypeJuridique.MEDIATHEQUE,
        "secteur": choices.Secteur.PUBLIC,
        "phase": "1",
        "commune": str(commune.pk),
        "adresse": "1 rue de la Médiathèque",
        "code_postal": "31320",
    }
    data.update(overrides)
    return data


def lieu_data(commune, **overrides):
    data = {
        "nom": "Espace numérique de la mairie",
        "commune": str(commune.pk),
        "code_postal": "31320",
        "adresse": "2 place de la Mairie",
        "horaires": "Mo-Fr 09:00-12:00",
        "itinerance": choices.Itinerance.FIXE,
        "services": ["Aide aux démarches administratives"],
        "frais_a_charge": ["Gratuit"],
    }
    data.update(overrides)
    return data


# --- The structures list ----------------------------------------------------------------------------------------
def test_staff_list_shows_every_structure_with_its_figures(staff_client):
    structure = factories.StructureFactory(nom="CCAS de Ramonville", france_services=True)
    factories.LieuFactory(structure=structure)
    factories.LieuFactory(structure=structure, is_active=False)
    factories.StructureFactory(nom="Mairie d'Escalquens")

    response = staff_client.get(reverse("structures:list"))

    assert response.status_code == 200
    page = text(response)
    assert "CCAS de Ramonville" in page
    assert "Mairie d'Escalquens" in page
    assert "Labellisée France Services" in page
    assert response.context["page"].object_list[0].nb_lieux == 1  # only published places count


def test_staff_list_filters_by_search_commune_status_type_and_role(staff_client):
    labege = factories.CommuneFactory(nom="Labège")
    ramonville = factories.CommuneFactory(nom="Ramonville-Saint-Agne")
    mediatheque = factories.StructureFactory(
        nom="Médiathèque de Labège",
        commune=labege,
        type_juridique=choices.TypeJuridique.MEDIATHEQUE,
        statut=choices.StatutCandidature.VALIDATION_COSELEC,
        reseau_aidants=True,
    )
    factories.StructureFactory(nom="Mairie de Labège", commune=labege)
    factories.StructureFactory(nom="Médiathèque de Ramonville", commune=ramonville)

    def names(**params):
        response = staff_client.get(reverse("structures:list"), params)
        assert response.status_code == 200
        return {structure.nom for structure in response.context["page"].object_list}

    assert names(q="médiathèque") == {"Médiathèque de Labège", "Médiathèque de Ramonville"}
    assert names(commune=labege.code_insee) == {"Médiathèque de Labège", "Mairie de Labège"}
    assert names(statut=choices.StatutCandidature.VALIDATION_COSELEC) == {"Médiathèque de Labège"}
    assert names(type_juridique=choices.TypeJuridique.MEDIATHEQUE, commune=labege.code_insee) == {mediatheque.nom}
    assert names(role="reseau_aidants") == {"Médiathèque de Labège"}
    assert names(q=mediatheque.siret[:9]) == {"Médiathèque de Labège"}


def test_an_invalid_filter_is_reported_and_ignored(staff_client, structure):
    response = staff_client.get(reverse("structures:list"), {"statut": "INCONNU"})

    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text(response)
    assert structure in response.context["page"].object_list


def test_list_is_paginated_by_25(staff_client):
    factories.StructureFactory.create_batch(27)

    first = staff_client.get(reverse("structures:list"))
    second = staff_client.get(reverse("structures:list"), {"page": 2})

    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 2
    assert "Page 2 sur 2" in text(second)


def test_referent_sees_only_their_structure_in_the_list(referent_client, structure):
    other = factories.StructureFactory(nom="Structure d'ailleurs")

    response = referent_client.get(reverse("structures:list"))

    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [structure]
    assert other.nom not in text(response)
    assert "Créer une structure" not in text(response)


# --- Scoping: another structure's objects answer 404 ------------------------------------------------------------
def test_referent_gets_404_on_another_structures_pages(referent_client):
    other = factories.StructureFactory()
    other_lieu = factories.LieuFactory(structure=other)

    assert referent_client.get(detail_url(other)).status_code == 404
    assert referent_client.get(edit_url(other)).status_code == 404
    assert referent_client.post(edit_url(other), structure_data(other.commune)).status_code == 404
    assert referent_client.get(lieu_edit_url(other_lieu)).status_code == 404
    assert referent_client.get(reverse("structures:lieu_create", args=[other.uuid])).status_code == 404
    assert referent_client.post(reverse("structures:lieu_toggle", args=[other_lieu.uuid])).status_code == 404
    assert referent_client.post(statut_url(other), {"statut": "ABANDON"}).status_code == 404
    other_lieu.refresh_from_db()
    assert other_lieu.is_active


def test_referent_reads_and_edits_their_own_structure(referent_client, structure):
    assert referent_client.get(detail_url(structure)).status_code == 200
    assert referent_client.get(edit_url(structure)).status_code == 200

    data = structure_data(structure.commune, nom=structure.nom, siret=structure.siret, contact_nom="Camille Martin")
    response = referent_client.post(edit_url(structure), data)

    assert response.status_code == 302
    structure.refresh_from_db()
    assert structure.contact_nom == "Camille Martin"
    # The legal type is an official field: the posted change is ignored (the field is disabled for référents).
    assert structure.type_juridique == choices.TypeJuridique.COMMUNE


def test_referent_sees_official_fields_disabled(referent_client, structure):
    response = referent_client.get(edit_url(structure))

    form = response.context["form"]
    assert form.fields["siret"].disabled
    assert form.fields["france_services"].disabled
    assert not form.fields["contact_nom"].disabled


def test_funder_reads_every_structure_without_edit_buttons(financeur_client):
    other = factories.StructureFactory(nom="Structure financée")

    response = financeur_client.get(detail_url(other))

    assert response.status_code == 200
    page = text(response)
    assert "Structure financée" in page
    assert "Modifier la structure" not in page
    assert "Changer le statut" not in page
    assert "Ajouter un membre" not in page


def test_funder_gets_404_on_edit_and_403_on_staff_actions(financeur_client):
    other = factories.StructureFactory()
    lieu = factories.LieuFactory(structure=other)

    assert financeur_client.get(edit_url(other)).status_code == 404
    assert financeur_client.post(edit_url(other), structure_data(other.commune)).status_code == 404
    assert financeur_client.get(lieu_edit_url(lieu)).status_code == 404
    assert financeur_client.get(reverse("structures:create")).status_code == 403
    assert financeur_client.post(statut_url(other), {"statut": "VALIDATION_COSELEC"}).status_code == 403
    other.refresh_from_db()
    assert other.statut == choices.StatutCandidature.CREEE


def test_conseiller_reads_their_structure_only(client, structure):
    conseiller = factories.MembershipFactory(structure=structure, role=Role.CONSEILLER).user
    client.force_login(conseiller)

    assert client.get(detail_url(structure)).status_code == 200
    assert client.get(edit_url(structure)).status_code == 404
    assert client.get(detail_url(factories.StructureFactory())).status_code == 404


def test_anonymous_is_sent_to_login(client, structure):
    response = client.get(reverse("structures:list"))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


# --- Status workflow --------------------------------------------------------------------------------------------
def test_non_staff_posting_a_status_change_gets_403(referent_client, structure):
    response = referent_client.post(statut_url(structure), {"statut": choices.StatutCandidature.VALIDATION_COSELEC})

    assert response.status_code == 403
    structure.refresh_from_db()
    assert structure.statut == choices.StatutCandidature.CREEE


def test_status_pages_accept_only_post(staff_client, structure):
    assert staff_client.get(statut_url(structure)).status_code == 405


def test_valid_status_transition_is_recorded_with_the_acting_user(staff_client, staff_user, structure):
    response = staff_client.post(statut_url(structure), {"statut": choices.StatutCandidature.VALIDATION_COSELEC})

    assert response.status_code == 302
    structure.refresh_from_db()
    assert structure.statut == choices.StatutCandidature.VALIDATION_COSELEC
    last = structure.history.latest("history_date")
    assert last.history_user == staff_user
    assert last.statut == choices.StatutCandidature.VALIDATION_COSELEC

    page = plain_text(staff_client.get(detail_url(structure)))
    assert "Statut de la candidature : « Validée »." in page  # the success message
    assert f"{staff_user.get_full_name()} Statut de la candidature : Non traitée → Validée" in page


def test_invalid_status_transition_shows_a_french_error_and_changes_nothing(staff_client, structure):
    structure.statut = choices.StatutCandidature.ANNULEE
    structure.save()
    history_before = structure.history.count()

    response = staff_client.post(statut_url(structure), {"statut": choices.StatutCandidature.VALIDATION_COSELEC})

    assert response.status_code == 400
    assert "Ce changement n'est pas possible depuis « Annulée »." in text(response)
    structure.refresh_from_db()
    assert structure.statut == choices.StatutCandidature.ANNULEE
    assert structure.history.count() == history_before


def test_status_form_offers_only_the_allowed_next_statuses(staff_client, structure):
    structure.statut = choices.StatutCandidature.VALIDATION_COSELEC
    structure.save()

    form = staff_client.get(detail_url(structure)).context["statut_form"]

    offered = {value for value, _label in form.fields["statut"].choices if value}
    assert offered == {choices.StatutCandidature.ABANDON, choices.StatutCandidature.ANNULEE}


def test_conventionnement_needs_a_validated_candidature(staff_client, structure):
    url = reverse("structures:conventionnement", args=[structure.uuid])
    target = choices.Conventionnement.CONVENTIONNEMENT_EN_COURS

    refused = staff_client.post(url, {"conventionnement": target})

    assert refused.status_code == 400
    assert "n'est possible que pour une candidature validée" in text(refused)
    structure.refresh_from_db()
    assert structure.conventionnement == choices.Conventionnement.NON_INTERESSE

    structure.statut = choices.StatutCandidature.VALIDATION_COSELEC
    structure.save()
    assert staff_client.post(url, {"conventionnement": target}).status_code == 302
    structure.refresh_from_db()
    assert structure.conventionnement == target


# --- Creating and editing structures ----------------------------------------------------------------------------
def test_staff_creates_a_structure(staff_client, staff_user):
    commune = factories.CommuneFactory()

    response = staff_client.post(reverse("structures:create"), structure_data(commune))

    structure = Structure.objects.get(nom="Médiathèque de Labège")
    assert response.status_code == 302
    assert response["Location"] == detail_url(structure)
    assert structure.history.get().history_user == staff_user


def test_siret_with_a_bad_check_key_is_refused_in_french(staff_client):
    commune = factories.CommuneFactory()

    response = staff_client.post(reverse("structures:create"), structure_data(commune, siret=BAD_KEY_SIRET))

    assert response.status_code == 400
    assert "la clé de contrôle ne correspond pas" in text(response)
    assert not Structure.objects.exists()


def test_siret_typed_with_spaces_is_accepted(staff_client):
    commune = factories.CommuneFactory()
    siret = factories.valid_siret()
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"

    response = staff_client.post(reverse("structures:create"), structure_data(commune, siret=spaced))

    assert response.status_code == 302
    assert Structure.objects.get().siret == siret


def test_duplicate_siret_is_refused(staff_client, structure):
    data = structure_data(factories.CommuneFactory(), nom="Autre nom", siret=structure.siret)

    response = staff_client.post(reverse("structures:create"), data)

    assert response.status_code == 400
    assert "Une structure avec ce SIRET existe déjà." in text(response)
    assert Structure.objects.count() == 1


def test_similar_name_in_the_same_commune_needs_a_confirmation(staff_client):
    existing = factories.StructureFactory(nom="Médiathèque de Labège")
    data = structure_data(existing.commune, nom="Mediatheque Labege")

    first = staff_client.post(reverse("structures:create"), data)

    assert first.status_code == 400
    page = text(first)
    assert "Doublon possible dans cette commune : Médiathèque de Labège." in page
    assert "Je confirme qu'il ne s'agit pas d'un doublon" in page
    assert Structure.objects.count() == 1

    confirmed = staff_client.post(reverse("structures:create"), {**data, "confirm_not_duplicate": "on"})

    assert confirmed.status_code == 302
    assert Structure.objects.filter(nom="Mediatheque Labege").exists()


def test_confirmation_box_is_hidden_until_a_duplicate_is_suspected(staff_client):
    response = staff_client.get(reverse("structures:create"))

    assert response.status_code == 200
    assert "Je confirme qu'il ne s'agit pas d'un doublon" not in text(response)


def test_missing_siret_and_rna_is_explained(staff_client):
    response = staff_client.post(reverse("structures:create"), structure_data(factories.CommuneFactory(), siret=""))

    assert response.status_code == 400
    assert "Renseignez le SIRET, ou le numéro RNA" in text(response)
    assert not Structure.objects.exists()


def test_unknown_commune_is_refused(staff_client):
    response = staff_client.post(
        reverse("structures:create"), {**structure_data(factories.CommuneFactory()), "commune": "0"}
    )

    assert response.status_code == 400
    assert "Cette commune n'existe pas" in text(response)


def test_refused_edit_keeps_the_saved_name_on_the_page(staff_client, structure):
    data = structure_data(structure.commune, nom="Nouveau nom", siret=BAD_KEY_SIRET)

    response = staff_client.post(edit_url(structure), data)

    assert response.status_code == 400
    assert f"Modifier la structure {structure.nom}" in text(response)
    structure.refresh_from_db()
    assert structure.nom != "Nouveau nom"


# --- Members ----------------------------------------------------------------------------------------------------
def test_referent_adds_and_removes_a_member(referent_client, structure):
    person = factories.UserFactory(email="camille@example.org")
    url = reverse("structures:membership_add", args=[structure.uuid])

    response = referent_client.post(url, {"email": "Camille@Example.org", "role": Role.CONSEILLER})

    assert response.status_code == 302
    membership = Membership.objects.get(user=person, structure=structure)
    assert membership.role == Role.CONSEILLER

    response = referent_client.post(reverse("structures:membership_remove", args=[membership.pk]))

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_adding_an_unknown_email_is_explained(referent_client, structure):
    url = reverse("structures:membership_add", args=[structure.uuid])

    response = referent_client.post(url, {"email": "inconnu@example.org", "role": Role.CONSEILLER})

    assert response.status_code == 400
    assert "Aucun compte actif n'utilise l'adresse « inconnu@example.org »" in text(response)
    assert Membership.objects.filter(structure=structure).count() == 1


def test_referent_cannot_grant_the_funder_role(referent_client, structure):
    person = factories.UserFactory()
    url = reverse("structures:membership_add", args=[structure.uuid])

    response = referent_client.post(url, {"email": person.email, "role": Role.FINANCEUR})

    assert response.status_code == 400
    assert not Membership.objects.filter(user=person).exists()


def test_referent_cannot_remove_another_structures_member(referent_client):
    membership = factories.MembershipFactory()

    response = referent_client.post(reverse("structures:membership_remove", args=[membership.pk]))

    assert response.status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


# --- Places -----------------------------------------------------------------------------------------------------
def test_referent_creates_a_place_with_lists_typed_as_text(referent_client, structure):
    data = lieu_data(
        structure.commune,
        courriels="accueil@example.org\ncontact@example.org | accueil@example.org",
        site_web="www.example.org",
        telephone="05 61 00 00 00",
    )

    response = referent_client.post(reverse("structures:lieu_create", args=[structure.uuid]), data)

    assert response.status_code == 302
    lieu = Lieu.objects.get(structure=structure)
    assert lieu.courriels == ["accueil@example.org", "contact@example.org"]
    assert lieu.site_web == ["https://www.example.org"]
    assert lieu.telephone == "+33561000000"
    assert response["Location"] == lieu_edit_url(lieu)


def test_place_with_bad_opening_hours_is_refused_in_french(referent_client, structure):
    url = reverse("structures:lieu_create", args=[structure.uuid])

    response = referent_client.post(url, lieu_data(structure.commune, horaires="Lundi 9h-12h"))

    assert response.status_code == 400
    assert "Jour non reconnu : « Lundi »" in text(response)
    assert not Lieu.objects.exists()


def test_place_with_a_bad_email_is_refused(referent_client, structure):
    url = reverse("structures:lieu_create", args=[structure.uuid])

    response = referent_client.post(url, lieu_data(structure.commune, courriels="accueil@example.org\npas-un-mail"))

    assert response.status_code == 400
    assert "« pas-un-mail » n'est pas une adresse e-mail valide." in text(response)
    assert not Lieu.objects.exists()


def test_place_edit_with_bad_hours_changes_nothing(referent_client, structure):
    lieu = factories.LieuFactory(structure=structure, courriels=["accueil@example.org"])

    page = referent_client.get(lieu_edit_url(lieu))
    assert page.status_code == 200
    assert "accueil@example.org" in text(page)

    response = referent_client.post(lieu_edit_url(lieu), lieu_data(lieu.commune, horaires="Mo 12:00-09:00"))

    assert response.status_code == 400
    assert "L'heure de fin doit suivre l'heure de début : « 12:00-09:00 »." in text(response)
    lieu.refresh_from_db()
    assert lieu.horaires == "Mo-Fr 09:00-12:00,14:00-18:00"


def test_place_edit_saves(referent_client, structure):
    lieu = factories.LieuFactory(structure=structure)

    response = referent_client.post(lieu_edit_url(lieu), lieu_data(lieu.commune, nom="Nouveau nom"))

    assert response.status_code == 302
    lieu.refresh_from_db()
    assert lieu.nom == "Nouveau nom"


def test_postcode_of_another_commune_is_refused(referent_client, structure):
    lieu = factories.LieuFactory(structure=structure)

    response = referent_client.post(lieu_edit_url(lieu), lieu_data(lieu.commune, code_postal="31000"))

    assert response.status_code == 400
    assert "Ce code postal ne correspond pas à" in text(response)


def test_toggling_publication(referent_client, structure):
    lieu = factories.LieuFactory(structure=structure)
    url = reverse("structures:lieu_toggle", args=[lieu.uuid])

    response = referent_client.post(url, {"action": "retirer"})

    assert response.status_code == 302
    lieu.refresh_from_db()
    assert not lieu.is_active
    assert "Publier le lieu" in text(referent_client.get(lieu_edit_url(lieu)))

    referent_client.post(url, {"action": "publier"})
    lieu.refresh_from_db()
    assert lieu.is_active
    assert referent_client.get(url).status_code == 405


def test_lieu_list_shows_only_the_referents_places(referent_client, structure):
    mine = factories.LieuFactory(structure=structure, nom="Mon lieu")
    factories.LieuFactory(nom="Lieu d'ailleurs")

    response = referent_client.get(reverse("structures:lieux"))

    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [mine]
    assert "Lieu d'ailleurs" not in text(response)


def test_lieu_list_filters_by_publication(staff_client):
    factories.LieuFactory(nom="Lieu publié")
    factories.LieuFactory(nom="Lieu retiré", is_active=False)

    response = staff_client.get(reverse("structures:lieux"), {"publication": "retire"})

    assert [lieu.nom for lieu in response.context["page"].object_list] == ["Lieu retiré"]


# --- Itinerant stops --------------------------------------------------------------------------------------------
@pytest.fixture
def bus(structure):
    return factories.LieuFactory(structure=structure, nom="Bus numérique", itinerance=choices.Itinerance.ITINERANT)


def arret_data(commune, **overrides):
    data = {
        "commune": str(commune.pk),
        "emplacement": "Parking de la mairie",
        "date": (datetime.date.today() + datetime.timedelta(days=3)).isoformat(),
        "heure_debut": "09:00",
        "heure_fin": "12:00",
    }
    data.update(overrides)
    return {f"arret-{name}": value for name, value in data.items()}


def test_adding_and_deleting_a_stop(referent_client, bus):
    commune = factories.CommuneFactory(nom="Montlaur")

    response = referent_client.post(reverse("structures:arret_create", args=[bus.uuid]), arret_data(commune))

    assert response.status_code == 302
    arret = ArretItinerant.objects.get(lieu=bus)
    assert arret.commune == commune
    page = text(referent_client.get(lieu_edit_url(bus)))
    assert "Arrêts à venir" in page and "Parking de la mairie" in page

    response = referent_client.post(reverse("structures:arret_delete", args=[arret.uuid]))

    assert response.status_code == 302
    assert not ArretItinerant.objects.exists()


def test_past_stops_are_listed_apart(referent_client, bus):
    factories.ArretItinerantFactory(lieu=bus, emplacement="Place du marché", date=datetime.date(2020, 5, 4))

    response = referent_client.get(lieu_edit_url(bus))

    assert [arret.emplacement for arret in response.context["arrets_passes"]] == ["Place du marché"]
    assert not response.context["arrets_a_venir"]


def test_stop_ending_before_it_starts_is_refused(referent_client, bus):
    data = arret_data(bus.commune, heure_debut="14:00", heure_fin="10:00")

    response = referent_client.post(reverse("structures:arret_create", args=[bus.uuid]), data)

    assert response.status_code == 400
    assert "L'heure de fin doit suivre l'heure de début." in text(response)
    assert not ArretItinerant.objects.exists()


def test_overlapping_stop_is_refused(referent_client, bus):
    url = reverse("structures:arret_create", args=[bus.uuid])
    referent_client.post(url, arret_data(bus.commune))

    response = referent_client.post(url, arret_data(bus.commune, heure_debut="11:00", heure_fin="13:00"))

    assert response.status_code == 400
    assert "Cet arrêt chevauche un autre arrêt du même jour." in text(response)
    assert ArretItinerant.objects.count() == 1


def test_fixed_place_has_no_stops(referent_client, structure):
    lieu = factories.LieuFactory(structure=structure)

    response = referent_client.post(reverse("structures:arret_create", args=[lieu.uuid]), arret_data(lieu.commune))

    assert response.status_code == 400
    assert "Seul un lieu itinérant a des arrêts." in text(response)


def test_another_structures_stop_cannot_be_deleted(referent_client):
    arret = factories.ArretItinerantFactory()

    response = referent_client.post(reverse("structures:arret_delete", args=[arret.uuid]))

    assert response.status_code == 404
    assert ArretItinerant.objects.filter(pk=arret.pk).exists()


# --- Query budgets ----------------------------------------------------------------------------------------------
def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_structure_list_query_count_does_not_grow_with_rows(staff_client):
    url = reverse("structures:list")
    for structure in factories.StructureFactory.create_batch(2, france_services=True):
        factories.LieuFactory(structure=structure)
    with_2 = count_queries(staff_client, url)

    for structure in factories.StructureFactory.create_batch(28, reseau_aidants=True):
        factories.LieuFactory(structure=structure)
        factories.MembershipFactory(structure=structure)
    with_30 = count_queries(staff_client, url)

    assert with_2 == with_30


def test_lieu_list_query_count_does_not_grow_with_rows(staff_client):
    url = reverse("structures:lieux")
    factories.LieuFactory.create_batch(2)
    with_2 = count_queries(staff_client, url)

    factories.LieuFactory.create_batch(28)
    with_30 = count_queries(staff_client, url)

    assert with_2 == with_30


def test_structure_history_query_count_does_not_grow_with_changes(staff_client, staff_user, structure):
    from structures import services

    services.structure_change_statut(structure=structure, statut="EXAMEN_COMPLEMENTAIRE_COSELEC", by=staff_user)
    few = count_queries(staff_client, detail_url(structure))

    for index in range(40):
        services.structure_update(structure=structure, by=staff_user, contact_nom=f"Contact {index}")
    many = count_queries(staff_client, detail_url(structure))

    assert few == many


def test_history_shows_the_last_30_changes_with_readable_values(staff_client, staff_user, structure):
    from structures import services

    other_commune = factories.CommuneFactory(nom="Montgiscard")
    services.structure_update(structure=structure, by=staff_user, commune=other_commune, france_services=True)
    for index in range(35):
        services.structure_update(structure=structure, by=staff_user, contact_nom=f"Contact {index}")

    response = staff_client.get(detail_url(structure))

    history = response.context["history"]
    assert len(history) == 30
    assert history[0]["changes"] == [{"label": "Nom du contact", "old": "Contact 33", "new": "Contact 34"}]
    services.structure_update(structure=structure, by=staff_user, contact_nom="")
    page = plain_text(staff_client.get(detail_url(structure)))
    assert "Nom du contact : Contact 34 → —" in page


def test_history_names_the_communes_and_labels(staff_client, staff_user, structure):
    from structures import services

    old_name = structure.commune.nom
    services.structure_update(
        structure=structure, by=staff_user, commune=factories.CommuneFactory(nom="Montgiscard"), france_services=True
    )

    page = plain_text(staff_client.get(detail_url(structure)))

    assert f"Commune : {old_name} → Montgiscard" in page
    assert "Labellisée France Services : non → oui" in page


# --- Forms ------------------------------------------------------------------------------------------------------
def test_commune_select_lists_the_territory_first_and_accepts_any_loaded_commune(staff_client, settings):
    sicoval = factories.EpciFactory(siren=settings.TERRITOIRE_EPCI_SIREN, nom="Sicoval")
    factories.CommuneFactory(nom="Labège", epci=sicoval)
    aucamville = factories.CommuneFactory(nom="Aucamville")

    page = text(staff_client.get(reverse("structures:create")))

    territoire = page.index('<optgroup label="Communes du territoire">')
    autres = page.index('<optgroup label="Autres communes">')
    assert territoire < page.index("Labège") < autres < page.index("Aucamville")

    response = staff_client.post(reverse("structures:create"), structure_data(aucamville))
    assert response.status_code == 302
    assert Structure.objects.get().commune == aucamville


def test_empty_post_shows_the_required_fields(staff_client):
    response = staff_client.post(reverse("structures:create"), {})

    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)
    assert not Structure.objects.exists()
