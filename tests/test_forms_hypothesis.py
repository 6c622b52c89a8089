"""Every public and staff form at random (issue 11): whatever is sent, a form never raises, and a valid form saves.

- The registry below names every form of the project, each with the constructor arguments its view passes (built
  from factories, through the product's selectors). A meta-test imports every form module of the project's apps
  (``forms*``, ``filters``, ``admin``, ``views*``) and fails on any form neither registered nor excluded with a reason:
  a new form must come with its row here.
- « Never raises »: for each registered form, any raw data (each field absent, valid, garbage of every kind —
  control characters, odd unicode, huge lengths, numbers out of range, impossible dates, several values at once —
  and unknown keys): ``is_valid()``, ``errors`` and rendering each field never raise.
- « A valid form saves », end to end through the views (the test client raises what would be a 500): the public
  registration to a session, the agenda's and the places' filters, the activity log's « Nouvelle activité », the
  referral form, and the back-office's creation of a structure, a place, a funder and a workshop. Valid data is a
  known-good example with any of its fields replaced by other valid values (mixed with garbage): the view answers
  with its success (a redirection, or the filtered page) and writes exactly one row, or — when a rule of the
  service refuses what the form let through — a 400 that says why and writes nothing; never a 500, never a partial
  write. Each of these tests also checks that its examples did save (the property is not vacuous).

Each Hypothesis example runs in a savepoint rolled back at its end. Examples are derandomised (the same on every run:
a shared suite must not fail at random); set FORMULAIRES_AU_HASARD_EXEMPLES to explore further.
"""

import contextlib
import copy
import dataclasses
import datetime
import importlib
import os
import pkgutil
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from django import forms
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple, RelatedFieldWidgetWrapper
from django.core.cache import cache
from django.db import transaction
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests import factories
from tests import strategies as raw

pytestmark = pytest.mark.django_db

EXPLORATION = int(os.environ.get("FORMULAIRES_AU_HASARD_EXEMPLES", "0"))
settings.register_profile(
    "formulaires",
    max_examples=EXPLORATION or 12,
    deadline=None,
    derandomize=not EXPLORATION,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
REGLAGES = settings.get_profile("formulaires")
# Twelve examples per form keep the file under a minute on PostgreSQL (about 90 forms); the forms saved through their
# views get more, each a whole request.
REGLAGES_VUES = settings(REGLAGES, max_examples=EXPLORATION or 20)
FORM_URLENCODED = "application/x-www-form-urlencoded"


# --- The world the forms are built in -------------------------------------------------------------------------------
class World:
    """What the forms' constructors need, made on first use (a test builds only what its form reads)."""

    @cached_property
    def structure(self):
        return factories.StructureFactory()

    @cached_property
    def commune(self):
        return self.structure.commune

    @cached_property
    def lieu(self):
        return factories.LieuFactory(structure=self.structure)

    @cached_property
    def staff(self):
        return factories.StaffUserFactory()

    @cached_property
    def referent(self):
        from accounts.models import Role

        return factories.MembershipFactory(structure=self.structure, role=Role.REFERENT).user

    @cached_property
    def conseiller(self):
        from accounts.models import Role

        user = factories.MembershipFactory(structure=self.structure, role=Role.CONSEILLER).user
        return factories.ConseillerFactory(user=user, prenom=user.first_name, nom=user.last_name)

    @cached_property
    def seance(self):
        return factories.SeanceFactory(atelier=factories.AtelierFactory(structure=self.structure), lieu=self.lieu)

    @cached_property
    def inscription(self):
        return factories.InscriptionFactory(seance=self.seance)

    @cached_property
    def poste(self):
        return factories.PosteFactory(structure=self.structure)

    @cached_property
    def contrat(self):
        return factories.ContratFactory(conseiller=self.conseiller, poste=self.poste)

    @cached_property
    def convention(self):
        return factories.ConventionFactory(structure=self.structure)

    @cached_property
    def ligne(self):
        return factories.LigneFinancementFactory(convention=self.convention)

    @cached_property
    def versement(self):
        return factories.VersementFactory(ligne=self.ligne)

    @cached_property
    def aidant(self):
        from tests.aidants.conftest import AidantFactory

        user = factories.MembershipFactory(structure=self.structure).user
        return AidantFactory(structure=self.structure, user=user)

    def admin_form(self, model, obj=None):
        """The form class the admin builds for ``model`` (with the acting user bound, as the admin does)."""
        request = RequestFactory().get("/admin/")
        request.user = self.staff
        return admin.site._registry[model].get_form(request, obj)


@dataclasses.dataclass(frozen=True)
class FormSpec:
    """How a view builds a form: ``variants(world)`` gives the constructor's keyword arguments (a list when the view
    builds it in several ways); ``form_class(world, cls)`` the class itself when the product derives it (the admin);
    ``files``: whether it takes uploads."""

    variants: Callable = lambda world: [{}]
    form_class: Callable | None = None
    files: bool = False

    def build_class(self, world, cls):
        return self.form_class(world, cls) if self.form_class else cls


def spec(*, files=False, form_class=None, **fixed):
    """A spec whose kwargs are ``fixed`` values or callables of the world (``variants=`` for several)."""
    variants = fixed.pop("variants", None)

    def make(world):
        if variants is not None:
            return variants(world)
        return [{name: value(world) if callable(value) else value for name, value in fixed.items()}]

    return FormSpec(variants=make, form_class=form_class, files=files)


def _current_variants(enum_path):
    """A status form, built from each status the object may be in."""
    return lambda world: [{"current": value} for value in import_string(enum_path).values]


def _admin(model_path, obj=None):
    def form_class(world, _cls):
        model = django_apps.get_model(model_path)
        return world.admin_form(model, obj(world) if obj else None)

    return form_class


def _selector(path, *args):
    return lambda world: import_string(path)(*(arg(world) if callable(arg) else arg for arg in args))


def _qs(model_path):
    return lambda world: django_apps.get_model(model_path).objects.all()


def _staff(world):
    return world.staff


def _structures(world):
    from structures.models import Structure

    world.structure  # noqa: B018 (at least one to choose)
    return Structure.objects.all()


def _participations(world):
    """An aidant who said yes and an account that said no (rows as the attendance sheet reads them)."""
    from aidants.models import ParticipationEvenement, StatutParticipation

    return [
        ParticipationEvenement(aidant=world.aidant, statut=StatutParticipation.INSCRIT),
        ParticipationEvenement(user=world.staff, statut=StatutParticipation.DECLINE, present=True),
    ]


def _familles(world):
    from notifications.rappels import FAMILLES

    return [{"famille": famille} for famille in FAMILLES.values()]


def _orientation_variants(world):
    world.aidant, world.seance, world.conseiller  # noqa: B018 (choices to draw)
    return [{"with_aidant": False}, {"with_aidant": True}]


FORMS = {
    # accompagnements
    "accompagnements.filters.ActiviteFilterForm": spec(user=lambda w: w.conseiller.user),
    "accompagnements.forms.ActiviteForm": spec(
        user=lambda w: w.conseiller.user, conseiller=lambda w: w.conseiller, own_structures=lambda w: [w.structure.pk]
    ),
    "accompagnements.forms_beneficiaires.BeneficiaireSearchForm": spec(),
    "accompagnements.forms_beneficiaires.BeneficiaireForm": spec(),
    "accompagnements.forms_beneficiaires.BeneficiaireCreateForm": spec(),
    "accompagnements.views.statistiques.PeriodeForm": spec(conseillers=lambda w: [w.conseiller]),
    "accompagnements.views.statistiques.PartageForm": spec(prefix="partage"),
    "sicoval_numerique.forms.PeriodeMoisForm": spec(),
    # donnees_personnelles (staff: the search of a person, then the export or the erasure of what was found)
    "donnees_personnelles.forms.RechercheForm": spec(),
    "donnees_personnelles.forms.ExportForm": spec(),
    "donnees_personnelles.forms.EffacementForm": spec(),
    # ateliers: public pages
    "ateliers.forms_public.AgendaFilterForm": spec(),
    "ateliers.forms_public.InscriptionForm": spec(),
    # ateliers: management
    "ateliers.forms.GestionFilterForm": spec(user=_staff),
    "ateliers.forms.AtelierForm": spec(
        variants=lambda w: [{"user": w.staff}, {"user": w.staff, "atelier": w.seance.atelier}]
    ),
    "ateliers.forms.SeanceForm": spec(
        variants=lambda w: [
            {"user": w.staff, "atelier": w.seance.atelier},
            {"user": w.staff, "atelier": w.seance.atelier, "seance": w.seance, "can_change_animateur": False},
        ]
    ),
    "ateliers.forms.InscriptionTelephoneForm": spec(),
    "ateliers.forms.SurPlaceForm": spec(),
    "ateliers.forms.MoveForm": spec(
        destinations=_selector("ateliers.selectors_gestion.seances_destination", _staff, lambda w: w.seance)
    ),
    "ateliers.forms.SeanceCancelForm": spec(),
    "ateliers.forms.AppelForm": spec(inscriptions=lambda w: [w.inscription]),
    # ateliers: Pass numérique
    "ateliers.forms_pass.CommandeForm": spec(),
    "ateliers.forms_pass.AttributionForm": spec(
        distributeurs=_selector("ateliers.selectors_pass.distributeurs"), carnets=_qs("ateliers.Carnet")
    ),
    "ateliers.forms_pass.RemiseForm": spec(
        variants=lambda w: [{}, {"distributeurs": import_string("ateliers.selectors_pass.distributeurs")()}]
    ),
    "ateliers.forms_pass.UtilisationForm": spec(
        inscriptions=lambda w: import_string("ateliers.selectors_pass.inscriptions_pour_pass")(
            w.staff, timezone.localdate()
        )
    ),
    "ateliers.forms_pass.RemboursementForm": spec(lieux=_selector("ateliers.selectors_pass.lieux_a_rembourser")),
    "ateliers.forms_pass.AnnulationForm": spec(),
    # structures
    "structures.views.public.LieuSearchForm": spec(),
    "structures.forms.StructureForm": spec(user=_staff),
    "structures.forms.StatutForm": spec(variants=_current_variants("structures.choices.StatutCandidature")),
    "structures.forms.ConventionnementForm": spec(variants=_current_variants("structures.choices.Conventionnement")),
    "structures.forms.MembershipForm": spec(
        variants=lambda w: [{}, {"roles": import_string("structures.services.grantable_roles")(w.referent)}]
    ),
    "structures.forms.LieuForm": spec(),
    "structures.forms.ArretForm": spec(),
    "structures.forms.StructureFilterForm": spec(structures=_structures),
    "structures.forms.LieuFilterForm": spec(),
    # conseillers
    "conseillers.forms.PosteFilterForm": spec(postes=_selector("conseillers.selectors.postes_visible_to", _staff)),
    "conseillers.forms.ConseillerFilterForm": spec(structures=_structures),
    "conseillers.forms.PosteForm": spec(),
    "conseillers.forms.AssignForm": spec(),
    "conseillers.forms.ReleaseForm": spec(),
    "conseillers.forms.MoveForm": spec(poste=lambda w: w.poste),
    "conseillers.forms.ReturnForm": spec(),
    "conseillers.forms.ContratForm": spec(variants=lambda w: [{}, {"instance": w.contrat}]),
    "conseillers.forms.RuptureForm": spec(poste=lambda w: w.contrat.poste),
    "conseillers.forms.ConseillerForm": spec(
        variants=lambda w: [
            {
                "user": w.staff,
                "coordinateurs": import_string("conseillers.selectors.conseillers_visible_to")(w.staff),
                "structures": _structures(w),
            },
            {
                "user": w.staff,
                "coordinateurs": import_string("conseillers.selectors.conseillers_visible_to")(w.staff),
                "instance": w.conseiller,
            },
        ]
    ),
    "conseillers.forms.FormationForm": spec(),
    "conseillers.forms.MiseEnRelationFilterForm": spec(
        structures=_structures, conseillers=_selector("conseillers.selectors.conseillers_visible_to", _staff)
    ),
    "conseillers.forms.MiseEnRelationForm": spec(
        structures=_structures, conseillers=_selector("conseillers.selectors.conseillers_visible_to", _staff)
    ),
    "conseillers.forms.MiseEnRelationStatutForm": spec(
        variants=_current_variants("conseillers.choices.StatutMiseEnRelation")
    ),
    "conseillers.forms.AvenantForm": spec(),
    "conseillers.forms.AvenantDecisionForm": spec(),
    # conseillers: admin (the form the admin derives, as it derives it)
    "conseillers.admin.PosteForm": spec(form_class=_admin("conseillers.Poste")),
    "conseillers.admin.ContratForm": spec(form_class=_admin("conseillers.Contrat")),
    "conseillers.admin.FormationForm": spec(form_class=_admin("conseillers.Formation")),
    # financements
    "financements.forms.OverviewForm": spec(
        variants=lambda w: [{}, {"structures": _structures(w), "territory_choice": False}]
    ),
    "financements.forms.ConventionFilterForm": spec(
        conventions=lambda w: (w.convention, import_string("financements.selectors.conventions_visible_to")(w.staff))[1]
    ),
    "financements.forms.FinanceurForm": spec(),
    "financements.forms.ConventionForm": spec(),
    "financements.forms.SignatureForm": spec(),
    "financements.forms.StatutForm": spec(variants=_current_variants("financements.choices.StatutConvention")),
    "financements.forms.LigneForm": spec(
        convention=lambda w: w.convention,
        postes=lambda w: (w.poste, import_string("conseillers.selectors.postes_visible_to")(w.staff))[1],
    ),
    "financements.forms.VersementPlanForm": spec(),
    "financements.forms.VersementRecordForm": spec(),
    "financements.forms.AvoirForm": spec(),
    # financements: admin (validating runs the service: each example is rolled back)
    "financements.admin.ConventionForm": spec(form_class=_admin("financements.Convention")),
    "financements.admin.LigneAddForm": spec(form_class=_admin("financements.LigneFinancement")),
    "financements.admin.LigneChangeForm": spec(
        form_class=_admin("financements.LigneFinancement", lambda w: w.ligne), instance=lambda w: w.ligne
    ),
    "financements.admin.VersementPlanForm": spec(form_class=_admin("financements.Versement")),
    "financements.admin.VersementRecordForm": spec(
        form_class=_admin("financements.Versement", lambda w: w.versement), instance=lambda w: w.versement
    ),
    "financements.admin.AvoirRecordForm": spec(form_class=_admin("financements.Avoir")),
    # aidants
    "aidants.forms.AidantFilterForm": spec(
        variants=lambda w: [
            {"structures": _structures(w)},
            {"structures": _structures(w), "with_inactive": True},
        ]
    ),
    "aidants.forms.AidantForm": spec(
        variants=lambda w: [
            {"structures": _structures(w)},
            {"structures": _structures(w), "instance": w.aidant},
        ]
    ),
    "aidants.forms.FormationAidantForm": spec(),
    "aidants.forms.AccountForm": spec(aidant=lambda w: w.aidant),
    "aidants.forms.ActifForm": spec(),
    "aidants.forms.DemandeForm": spec(structure=lambda w: (w.aidant, w.structure)[1]),
    "aidants.forms.DemandeTransitionForm": spec(
        variants=lambda w: [
            {"current": statut, "user": user, "prefix": "d-1"}
            for statut in import_string("aidants.models.StatutHabilitation").values
            for user in (w.staff, w.referent)
        ]
    ),
    "aidants.forms_evenements.EvenementForm": spec(),
    "aidants.forms_evenements.ReponseForm": spec(),
    "aidants.forms_evenements.PresencesForm": spec(participations=_participations),
    "aidants.forms_evenements.CoordinationForm": spec(),
    "aidants.forms_evenements.CoordinationFilterForm": spec(),
    "aidants.forms_orientations.OrientationForm": spec(variants=_orientation_variants),
    "aidants.forms_orientations.ClotureForm": spec(prefix="cloture", own_structures=lambda w: [w.lieu.structure_id]),
    "aidants.forms_orientations.ReorientationForm": spec(prefix="reorientation"),
    "aidants.forms_orientations.StatutFilterForm": spec(),
    # notifications
    "notifications.forms.EmailFilterForm": spec(types=lambda w: import_string("notifications.views._types")()),
    "notifications.forms.ReglageRappelForm": spec(variants=_familles),
    # imports (their files are also explored by tests/imports/test_fichiers_au_hasard.py)
    "imports.forms.ImportActivitesForm": spec(files=True),
    "imports.forms.ImportLieuxForm": spec(files=True),
    "imports.views_coop.ConnexionForm": spec(
        variants=lambda w: [{}, {"secret_le": timezone.now() - datetime.timedelta(days=3)}]
    ),
    # partenaires
    "partenaires.forms.ClientCreateForm": spec(user=_staff),
    "partenaires.forms.ClientFilterForm": spec(),
    # reporting
    "reporting.forms.TableauForm": spec(structures=_structures),
    "reporting.forms_rapports.RapportDemandeForm": spec(),
}

# Forms of the project that are not tested here, each with why.
EXCLUDED = {
    "ateliers.forms._PersonForm": "base of InscriptionTelephoneForm and SurPlaceForm (both registered), never built",
    "structures.forms._TransitionForm": "base of the status forms (registered): without `enum` and `transitions`",
    "conseillers.forms._FilterForm": "base of the filter forms (registered), no field of its own",
    "conseillers.admin.RuleCheckedForm": "base of the admin's ContratForm and FormationForm (registered), no `check`",
    "financements.admin.ServiceForm": "base of the admin's service forms (registered), no `call_service`",
}


# --- Meta-test: every form of the project is here -------------------------------------------------------------------
FORM_MODULE_NAMES = ("forms", "filters", "admin", "views")


def _project_apps():
    base = Path(django_settings.BASE_DIR).resolve()
    found = []
    for config in django_apps.get_app_configs():
        path = Path(config.path).resolve()
        if base in path.parents and ".venv" not in path.parts and "site-packages" not in path.parts:
            found.append(config.name)
    return found


def _import_form_modules(app):
    package = importlib.import_module(app)
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
        parts = module.name.split(".")[1:]
        if any(part.startswith(FORM_MODULE_NAMES) for part in parts) and "migrations" not in parts:
            importlib.import_module(module.name)


def _all_subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _all_subclasses(subclass)


def project_forms():
    apps = _project_apps()
    for app in apps:
        _import_form_modules(app)
    roots = {app.split(".")[0] for app in apps}
    return {
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _all_subclasses(forms.BaseForm)
        if cls.__module__.split(".")[0] in roots and _defined_in_its_module(cls)
    }


def _defined_in_its_module(cls):
    """A class written in its module's source, not one the product derives at run time (the admin binds the acting
    user to its forms with ``type(...)``, under the same name)."""
    return getattr(sys.modules[cls.__module__], cls.__qualname__, None) is cls


def test_every_form_of_the_project_is_registered_or_excluded_with_a_reason():
    """A new form (in any app's ``forms*``, ``filters``, ``admin`` or views module) fails here until it is given its
    constructor arguments in ``FORMS`` (and so its random data), or a reason in ``EXCLUDED``; a form that no longer
    exists must leave both."""
    found = project_forms()
    missing = sorted(found - set(FORMS) - set(EXCLUDED))
    assert not missing, f"formulaires ni enregistrés dans FORMS ni exclus avec une raison : {missing}"
    stale = sorted((set(FORMS) | set(EXCLUDED)) - found)
    assert not stale, f"formulaires enregistrés qui n'existent plus : {stale}"
    assert not set(FORMS) & set(EXCLUDED)
    assert all(reason.strip() for reason in EXCLUDED.values())


# --- Property 1: any data, the form never raises --------------------------------------------------------------------
@contextlib.contextmanager
def rolled_back():
    """One Hypothesis example in a savepoint rolled back at its end (also when it fails)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def build(form_class, data, kwargs, files=None):
    # An instance is edited on a copy, as the views do: an example must not leave its values on the next one's.
    kwargs = {name: copy.copy(value) if name == "instance" else value for name, value in kwargs.items()}
    if files is not None:
        return form_class(data, files, **kwargs)
    return form_class(data, **kwargs)


# Django's admin autocomplete widget re-renders a refused value by querying it (``pk__in=[value]``): a value that is
# not a number makes it raise (a 500 on the admin's page, staff only), a flaw of Django's widget reported with this
# test rather than worked around in the product; the field's validation itself is exercised.
UNRENDERABLE_WIDGETS = (AutocompleteSelect, AutocompleteSelectMultiple)


def _renderable(widget):
    if isinstance(widget, RelatedFieldWidgetWrapper):
        widget = widget.widget
    # Django's own autocomplete widgets fail on a malformed value; the project's admins use safe subclasses
    # (``sicoval_numerique.admin.AutocompleteSurMixin``), rendered like every other widget.
    return type(widget) not in UNRENDERABLE_WIDGETS


def exercise(form):
    """What a view does with a bound form: validate it, read its errors, render it again with what was typed."""
    valid = form.is_valid()
    errors = form.errors
    errors.as_data()
    errors.get_json_data()
    str(errors)
    form.non_field_errors()
    for bound_field in form:
        if _renderable(bound_field.field.widget):
            str(bound_field)
        bound_field.errors  # noqa: B018
    return valid


@pytest.mark.parametrize("path", sorted(FORMS))
def test_any_data_never_makes_a_form_raise(path):
    """Whatever a browser or a robot sends (garbage of every kind, valid values, several values for one field,
    unknown keys, and for uploads any bytes), validating the form, reading its errors and rendering its fields never
    raise: a form answers with French errors, never a 500."""
    world = World()
    spec = FORMS[path]
    form_class = spec.build_class(world, import_string(path))
    templates = []
    for kwargs in spec.variants(world):
        empty_files = MultiValueDict() if spec.files else None
        templates.append((kwargs, build(form_class, QueryDict(), kwargs, empty_files)))

    def example(index):
        template = templates[index][1]
        files = raw.any_files(template) if spec.files else st.none()
        return st.tuples(st.just(index), raw.any_data(template), files)

    @REGLAGES
    @given(drawn=st.integers(min_value=0, max_value=len(templates) - 1).flatmap(example))
    def check(drawn):
        index, data, files = drawn
        kwargs = templates[index][0]
        uploads = None
        if files is not None:
            uploads = MultiValueDict({name: [upload] for name, upload in files.items()})
        with rolled_back():
            form = build(form_class, raw.to_querydict(data), kwargs, uploads)
            exercise(form)

    check()


def test_the_admin_answers_a_non_numeric_autocomplete_value_with_its_form_not_a_500(client):
    """The flaw Property 1 found in the admin: a contract posted with a conseiller that is not a number is refused
    by the form, and re-rendering the autocomplete widget queried ``id IN ('x')`` and raised (a 500 for staff). The
    project's admins now show the form again with its error."""
    client.force_login(factories.StaffUserFactory(is_superuser=True))
    response = client.post(reverse("admin:conseillers_contrat_add"), {"conseiller": "x", "type": "CDD"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["conseiller"]


# --- Property 2: a valid form saves, end to end through its view ----------------------------------------------------
def note(outcomes, label):
    """Count an example's outcome (and show it in Hypothesis' statistics)."""
    outcomes[label] += 1
    event(label)


def _rows(*models):
    return tuple(model.objects.count() for model in models)


def test_a_valid_registration_always_saves_through_the_public_page(client):
    """The public registration to a session: valid answers (any name, e-mail or telephone, commune, age range) are
    a redirection to the confirmation and exactly one registration; refused answers a 400 and none."""
    from ateliers.forms_public import InscriptionForm
    from ateliers.models import Inscription

    world = World()
    world.commune  # noqa: B018 (a commune to choose)
    url = reverse("ateliers:inscription", args=[world.seance.uuid])
    example = {"prenom": "Jeanne", "nom": "Martin", "email": "jeanne.martin@example.org", "consentement": "on"}
    assert InscriptionForm(raw.to_querydict(example)).is_valid()
    template = InscriptionForm(QueryDict())

    outcomes = Counter()

    @REGLAGES_VUES
    @given(data=st.one_of(raw.valid_data(template, example, fixed=[InscriptionForm.HONEYPOT]), raw.any_data(template)))
    def check(data):
        cache.clear()  # the per-IP limit of the public form counts every example's POST
        with rolled_back():
            valid = InscriptionForm(raw.to_querydict(data)).is_valid()
            before = _rows(Inscription)
            response = client.post(url, raw.urlencoded(data), content_type=FORM_URLENCODED)
            written = _rows(Inscription)[0] - before[0]
            note(outcomes, "enregistrée" if valid else "refusée")
            if valid:
                assert (response.status_code, written) == (302, 1), raw.printable(data)
            else:
                assert (response.status_code, written) == (400, 0), raw.printable(data)

    check()
    assert outcomes["enregistrée"] and outcomes["refusée"], outcomes


def test_the_agenda_filters_answer_the_filtered_agenda_or_a_400(client):
    """The agenda's filters, page and iCal feed: valid filters answer the agenda (200), any other value a 400 that
    says which filter to correct; never a 500."""
    from ateliers.forms_public import AgendaFilterForm

    world = World()
    world.seance  # noqa: B018 (a session to list)
    template = AgendaFilterForm(QueryDict())
    pages = [reverse("ateliers:agenda"), reverse("ateliers:agenda_ics")]

    outcomes = Counter()

    @REGLAGES_VUES
    @given(data=st.one_of(raw.valid_data(template, {}), raw.any_data(template)), page=st.sampled_from(pages))
    def check(data, page):
        data = {name: value for name, value in data.items() if name != "page"}
        with rolled_back():
            query = raw.to_querydict(data)
            valid = not query or AgendaFilterForm(query).is_valid()
            response = client.get(f"{page}?{raw.urlencoded(data)}")
            note(outcomes, "filtré" if valid else "refusé")
            assert response.status_code == (200 if valid else 400), raw.printable(data)

    check()
    assert outcomes["filtré"] and outcomes["refusé"], outcomes


def test_the_places_search_always_answers_the_list(client):
    """The public search of places: valid filters answer the filtered list, invalid ones are left out; the page
    answers 200 whatever is sent."""
    from structures.views.public import LieuSearchForm

    world = World()
    world.lieu  # noqa: B018 (a place to list)
    template = LieuSearchForm(QueryDict())
    url = reverse("lieux_public")

    @REGLAGES_VUES
    @given(data=st.one_of(raw.valid_data(template, {}), raw.any_data(template)))
    def check(data):
        data = {name: value for name, value in data.items() if name != "page"}
        with rolled_back():
            response = client.get(f"{url}?{raw.urlencoded(data)}")
            assert response.status_code == 200, raw.printable(data)

    check()


def _activite_examples(world):
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    individuel = {
        "type": "individuel",
        "date": yesterday,
        "duree_choix": "30",
        "type_lieu": "lieu_activite",
        "lieu": str(world.lieu.pk),
        "thematiques": ["email"],
    }
    collectif = {
        **individuel,
        "type": "collectif",
        "titre_atelier": "Se protéger des arnaques",
        "niveau": "debutant",
        "anonymes": "4",
    }
    domicile = {**individuel, "type_lieu": "domicile", "lieu": "", "commune": str(world.commune.pk)}
    return [individuel, collectif, domicile]


def test_a_valid_activity_saves_through_the_form_or_is_refused_whole(client):
    """The « Nouvelle activité » form, posted by a conseiller: a valid form is saved by the service (a redirection,
    one activity and its participants), or refused by one of the service's rules with a 400 that says why and
    nothing written; garbage is a 400 with nothing written. Never a 500, never an activity without participant."""
    from accompagnements.forms import ActiviteForm
    from accompagnements.models import Accompagnement, Activite

    world = World()
    conseiller = world.conseiller
    client.force_login(conseiller.user)
    url = reverse("accompagnements:create")
    kwargs = {"user": conseiller.user, "conseiller": conseiller, "own_structures": [world.structure.pk]}
    examples = _activite_examples(world)
    template = ActiviteForm(QueryDict(), **kwargs)
    for example in examples:  # the known-good examples save
        with rolled_back():
            assert client.post(url, raw.urlencoded(example), content_type=FORM_URLENCODED).status_code == 302
    strategy = st.one_of(*(raw.valid_data(template, example) for example in examples), raw.any_data(template))

    outcomes = Counter()

    @REGLAGES_VUES
    @given(data=strategy)
    def check(data):
        with rolled_back():
            valid = ActiviteForm(raw.to_querydict(data), **kwargs).is_valid()
            before = _rows(Activite, Accompagnement)
            response = client.post(url, raw.urlencoded(data), content_type=FORM_URLENCODED)
            activites, accompagnements = (
                after - first for after, first in zip(_rows(Activite, Accompagnement), before, strict=True)
            )
            if response.status_code == 302:
                note(outcomes, "enregistrée")
                assert valid and activites == 1 and accompagnements >= 1, raw.printable(data)
            else:
                note(outcomes, "refusée par le service" if valid else "refusée par le formulaire")
                assert response.status_code == 400, raw.printable(data)
                assert (activites, accompagnements) == (0, 0), raw.printable(data)
                assert "Le formulaire n'a pas pu être enregistré" in response.content.decode(), raw.printable(data)

    check()
    assert outcomes["enregistrée"], outcomes


def test_a_valid_referral_saves_through_the_form_or_is_refused_whole(client):
    """« Orienter une personne », by an aidant and by staff on behalf of one: a valid form is a redirection to the
    new referral (exactly one written), or a 400 from a rule of the service with nothing written; never a 500."""
    from aidants.forms_orientations import OrientationForm
    from aidants.models import Orientation

    world = World()
    aidant, commune = world.aidant, world.commune
    world.conseiller, world.seance  # noqa: B018 (a conseiller and a session to choose)
    url = reverse("aidants:orientation_create")
    example = {
        "thematiques": ["prendre_en_main_du_materiel"],
        "commune": commune.code_insee,
        "prenom": "Zéphyrine",
        "contact_prefere": "telephone",
        "telephone": "06 12 34 56 78",
        "urgence": "normale",
        "consentement": "on",
    }
    senders = [
        (aidant.user, {"with_aidant": False}, example),
        (world.staff, {"with_aidant": True}, {**example, "aidant": str(aidant.uuid)}),
    ]
    cases = []
    for user, kwargs, known_good in senders:
        client.force_login(user)
        with rolled_back():
            assert client.post(url, raw.urlencoded(known_good), content_type=FORM_URLENCODED).status_code == 302
        cases.append((user, kwargs, known_good, OrientationForm(QueryDict(), **kwargs)))

    def case(index):
        _user, _kwargs, known_good, template = cases[index]
        return st.tuples(st.just(index), st.one_of(raw.valid_data(template, known_good), raw.any_data(template)))

    outcomes = Counter()

    @REGLAGES_VUES
    @given(drawn=st.integers(min_value=0, max_value=len(cases) - 1).flatmap(case))
    def check(drawn):
        index, data = drawn
        user, kwargs, _known_good, _template = cases[index]
        client.force_login(user)
        cache.clear()
        with rolled_back():
            valid = OrientationForm(raw.to_querydict(data), **kwargs).is_valid()
            before = _rows(Orientation)
            response = client.post(url, raw.urlencoded(data), content_type=FORM_URLENCODED)
            written = _rows(Orientation)[0] - before[0]
            if response.status_code == 302:
                note(outcomes, "enregistrée")
                assert valid and written == 1, raw.printable(data)
            else:
                note(outcomes, "refusée par le service" if valid else "refusée par le formulaire")
                assert (response.status_code, written) == (400, 0), raw.printable(data)

    check()
    assert outcomes["enregistrée"], outcomes


def check_a_valid_form_saves(client, *, user, url, form_of, examples, model, saved=None):
    """The shared property of the back-office's creation pages: the known-good ``examples`` save; then for valid
    data (an example with any fields replaced by other valid values) and garbage alike, the page answers a
    redirection with exactly one ``model`` row written, or a 400 with none; a redirection only for a valid form.
    ``form_of(query)`` builds the form as the view does; ``saved(form)``, for a page that updates a row rather than
    creating one, checks what was stored instead of counting rows."""
    client.force_login(user)
    for example in examples:
        with rolled_back():
            response = client.post(url, raw.urlencoded(example), content_type=FORM_URLENCODED)
            assert response.status_code == 302, (example, response.status_code)
    template = form_of(QueryDict())
    strategy = st.one_of(*(raw.valid_data(template, example) for example in examples), raw.any_data(template))

    outcomes = Counter()

    @REGLAGES_VUES
    @given(data=strategy)
    def check(data):
        with rolled_back():
            form = form_of(raw.to_querydict(data))
            valid = form.is_valid()
            before = model.objects.count()
            response = client.post(url, raw.urlencoded(data), content_type=FORM_URLENCODED)
            written = model.objects.count() - before
            if response.status_code == 302:
                note(outcomes, "enregistré")
                assert valid, raw.printable(data)
                if saved is None:
                    assert written == 1, raw.printable(data)
                else:
                    saved(form)
            else:
                note(outcomes, "refusé par le service" if valid else "refusé par le formulaire")
                assert (response.status_code, written) == (400, 0), raw.printable(data)

    check()
    assert outcomes["enregistré"], outcomes


def test_a_valid_structure_saves_through_the_back_office_or_is_refused_whole(client):
    """Staff create a structure: a valid form saves exactly one structure (or a rule of the service, such as a
    possible duplicate to confirm, answers a 400 with nothing written); never a 500."""
    from structures.forms import StructureForm
    from structures.models import Structure

    world = World()
    commune = world.commune
    example = {
        "nom": "Médiathèque de Labège",
        "siret": factories.valid_siret(),
        "type_juridique": "mediatheque",
        "secteur": "public",
        "phase": "1",
        "commune": str(commune.pk),
        "adresse": "1 rue de la Médiathèque",
        "code_postal": "31320",
    }
    check_a_valid_form_saves(
        client,
        user=world.staff,
        url=reverse("structures:create"),
        form_of=lambda query: StructureForm(query, user=world.staff),
        examples=[example],
        model=Structure,
    )


def test_a_valid_place_saves_through_the_back_office_or_is_refused_whole(client):
    """A référent creates a place of their structure: a valid form saves exactly one place, or a 400 with nothing
    written; never a 500."""
    from structures.forms import LieuForm
    from structures.models import Lieu

    world = World()
    structure, commune = world.structure, world.commune
    example = {
        "nom": "Espace numérique de la mairie",
        "commune": str(commune.pk),
        "code_postal": "31320",
        "adresse": "2 place de la Mairie",
        "horaires": "Mo-Fr 09:00-12:00",
        "itinerance": "Fixe",
        "services": ["Aide aux démarches administratives"],
        "frais_a_charge": ["Gratuit"],
    }

    def form_of(query):
        form = LieuForm(query, initial={"commune": commune, "code_postal": "31320", "adresse": structure.adresse})
        form.instance.structure = structure
        return form

    check_a_valid_form_saves(
        client,
        user=world.referent,
        url=reverse("structures:lieu_create", args=[structure.uuid]),
        form_of=form_of,
        examples=[example],
        model=Lieu,
    )


def test_a_valid_funder_saves_through_the_back_office_or_is_refused_whole(client):
    """Staff record a funder: a valid form saves exactly one funder, or a 400 with nothing written; never a 500."""
    from financements.forms import FinanceurForm
    from financements.models import Financeur

    world = World()
    example = {"nom": "Conseil départemental", "type": "departement", "structure": str(world.structure.uuid)}
    check_a_valid_form_saves(
        client,
        user=world.staff,
        url=reverse("financements:financeur_create"),
        form_of=FinanceurForm,
        examples=[example, {"nom": "ANCT", "type": "etat"}],
        model=Financeur,
    )


def test_a_valid_workshop_saves_through_the_back_office_or_is_refused_whole(client):
    """A référent creates a workshop of their structure: a valid form saves exactly one workshop, or a 400 with
    nothing written; never a 500."""
    from ateliers.forms import AtelierForm
    from ateliers.models import Atelier

    world = World()
    referent = world.referent
    example = {
        "structure": str(world.structure.uuid),
        "titre": "Premiers pas sur la tablette",
        "description": "Allumer, se connecter au wifi, installer une application.",
        "thematiques": ["prendre_en_main_du_materiel"],
        "niveau": "debutant",
        "publics": ["seniors"],
        "duree": "90",
        "actif": "on",
    }
    check_a_valid_form_saves(
        client,
        user=referent,
        url=reverse("ateliers:gestion_atelier_create"),
        form_of=lambda query: AtelierForm(query, user=referent),
        examples=[example],
        model=Atelier,
    )


def test_a_valid_network_event_saves_through_the_back_office_or_is_refused_whole(client):
    """Staff create an event of the aidants' network: a valid form saves exactly one event, or a 400 with nothing
    written; never a 500."""
    from aidants.forms_evenements import EvenementForm
    from aidants.models import Evenement

    world = World()
    example = {
        "type": "reunion",
        "titre": "Réunion de rentrée",
        "date": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        "heure_debut": "14:00",
        "heure_fin": "16:30",
        "adresse": "Maison du Sicoval",
        "public": "reseau",
        "capacite": "20",
    }
    check_a_valid_form_saves(
        client,
        user=world.staff,
        url=reverse("aidants:evenement_create"),
        form_of=EvenementForm,
        examples=[example],
        model=Evenement,
    )


def test_valid_reminder_settings_save_through_their_page_or_are_refused_whole(client):
    """Staff set the workshops' reminders: valid delays save the family's settings (one row, written on the first
    save, or updated), or the family's own checks answer a 400 with nothing written; never a 500."""
    from notifications import rappels
    from notifications.forms import ReglageRappelForm
    from notifications.models import ReglageRappel
    from notifications.rappels import services as rappels_services

    world = World()
    famille = rappels.famille("atelier")
    example = {
        "actif": "on",
        "jours_avant": "1",
        "jours_avant_anticipe": "3",
        "anticipation_jours": "21",
        "heure": "10",
    }

    def stored_as_typed(form):
        reglage = ReglageRappel.objects.get(famille="atelier")
        assert reglage.actif == form.cleaned_data["actif"]
        assert rappels_services.parametres_of(famille, reglage) == form.parametres()

    check_a_valid_form_saves(
        client,
        user=world.staff,
        url=reverse("notifications:rappel_edit", args=["atelier"]),
        form_of=lambda query: ReglageRappelForm(query, famille=famille),
        examples=[example],
        model=ReglageRappel,
        saved=stored_as_typed,
    )
