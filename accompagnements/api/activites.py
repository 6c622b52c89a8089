"""The activities of a structure's conseillers for its partner systems (``/api/v1/activites/``, scope
``activites:read``), read only and anonymised.

- Scope: the activities recorded while the conseiller was employed by the client's structure (``Activite.structure``,
  the employer on the activity's day), exactly what the web pages show the structure's référents.
- Anonymised: the coded national fields of the activity log only, and the participants as counts by genre, age band
  and status. Never the notes, never a beneficiary (no name, no link, no commune of residence), never the
  conseiller's name (their identifier only), and no free text: the name of an administrative procedure and the title
  of a workshop are typed freely and may name a person.
- Deletions: an activity deleted by its author is in no list and answers 404, except in a synchronisation
  (``modified_since`` given): there it comes back once as a tombstone ``{"uuid", "supprimee": true,
  "supprimee_le", ...}`` with every other field null, so that a partner deletes its copy too. A full read (without
  ``modified_since``) is the set of live activities, to replace a partner's copy wholesale.
"""

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Count, F
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers

from accompagnements import choices as c
from accompagnements.filters import apply_filters
from accompagnements.models import Accompagnement, Activite
from sicoval_numerique.api.partner import PartnerViewSet, SyncFilterSet

# The participants' attributes counted per activity: (field, the codes of its vocabulary, in order).
CODES = tuple(
    (name, tuple(code for code, _label in vocabulary)) for name, vocabulary, _title in c.ATTRIBUTS_BENEFICIAIRE
)
INSEE_PATTERN = r"^[0-9][0-9AB][0-9]{3}$"
INSEE_CODE = RegexValidator(INSEE_PATTERN, "Code INSEE invalide : 5 caractères, par exemple 31254.")


# The only columns read: what the API shows, and nothing else. The notes, the free texts and the conseiller's name
# and contact details are never even read.
COLONNES = (
    "uuid",
    "type",
    "date",
    "duree",
    "type_lieu",
    "thematiques",
    "materiel",
    "autonomie",
    "oriente",
    "structure_redirection",
    "niveau",
    "participants",
    "supprimee_le",
    "created_at",
    "updated_at",
)
# And from the joined rows, as plain values: no conseiller, place or commune object is built per activity (a place
# alone has a dozen JSON lists to decode) for the sake of an identifier or a name.
JOINTES = {
    "conseiller_uuid": F("conseiller__uuid"),
    "lieu_uuid": F("lieu__uuid"),
    "commune_code_insee": F("commune__code_insee"),
    "commune_nom": F("commune__nom"),
}


def activites_of_structure(structure):
    """Every activity of ``structure`` (deleted ones included: callers keep ``.actives()`` unless they synchronise),
    with what the API shows, and only that (``COLONNES`` and ``JOINTES``)."""
    return Activite.objects.filter(structure=structure).only(*COLONNES).annotate(**JOINTES)


def repartitions(activites):
    """{activity pk: {attribute: {code: count}}} for the live activities given, every code of the vocabulary
    present (0 when nobody). One query, whatever the number of activities."""
    live = [activite.pk for activite in activites if activite.supprimee_le is None]
    counts = {pk: {name: dict.fromkeys(codes, 0) for name, codes in CODES} for pk in live}
    if not live:
        return counts
    rows = (
        Accompagnement.objects.filter(activite_id__in=live)
        .values("activite_id", *(name for name, _codes in CODES))
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        by_attribute = counts[row["activite_id"]]
        for name, _codes in CODES:
            code = row[name] if row[name] in by_attribute[name] else c.NON_COMMUNIQUE
            by_attribute[name][code] += row["n"]
    return counts


# --- Serializers -------------------------------------------------------------------------------------------------
# Their docstrings are the OpenAPI descriptions partners read: they are in French.
def _counts_serializer(name, vocabulary, doc):
    fields = {
        code: serializers.IntegerField(read_only=True, min_value=0, help_text=label) for code, label in vocabulary
    }
    return type(name, (serializers.Serializer,), {"__doc__": doc, **fields})


class ActiviteRepartitionSerializer(serializers.Serializer):
    """Les participants comptés par genre, tranche d'âge et statut (codes de l'outil national) ; chaque
    répartition totalise `participants`."""

    genre = _counts_serializer("ActiviteRepartitionGenreSerializer", c.GENRE, "Participants par genre.")()
    tranche_age = _counts_serializer(
        "ActiviteRepartitionTrancheAgeSerializer", c.TRANCHE_AGE, "Participants par tranche d'âge."
    )()
    statut_social = _counts_serializer(
        "ActiviteRepartitionStatutSerializer", c.STATUT_SOCIAL, "Participants par statut."
    )()


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A national code, null where the activity has none (a field of the other activity type)."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices, read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return None if value in ("", None) else value


class ActiviteSerializer(serializers.ModelSerializer):
    """Une activité (compte rendu d'activité) anonymisée, ou une activité supprimée (`supprimee: true`)."""

    supprimee = serializers.SerializerMethodField(
        help_text="Vrai pour une activité supprimée par son auteur (seulement avec `modified_since`) : supprimez-la "
        "de votre copie ; ses autres champs sont alors null."
    )
    conseiller = serializers.UUIDField(
        source="conseiller_uuid", read_only=True, allow_null=True, help_text="Identifiant du conseiller."
    )
    type = BlankAsNullChoiceField(c.TYPE_ACTIVITE, help_text="`individuel` ou `collectif`.")
    date = serializers.DateField(read_only=True, allow_null=True)
    duree = serializers.IntegerField(read_only=True, allow_null=True, help_text="Durée en minutes.")
    type_lieu = BlankAsNullChoiceField(c.TYPE_LIEU, help_text="Canal d'accompagnement.")
    lieu = serializers.UUIDField(
        source="lieu_uuid", read_only=True, allow_null=True, help_text="Le lieu de médiation (`/api/v1/lieux/`)."
    )
    code_insee = serializers.CharField(
        source="commune_code_insee", read_only=True, allow_null=True, help_text="Commune où l'activité a eu lieu."
    )
    commune = serializers.CharField(source="commune_nom", read_only=True, allow_null=True)
    thematiques = serializers.ListField(
        child=serializers.ChoiceField(choices=c.THEMATIQUES),
        read_only=True,
        allow_null=True,
        help_text="Codes des thématiques, tels que dans l'outil national.",
    )
    materiel = serializers.ListField(child=serializers.ChoiceField(choices=c.MATERIEL), read_only=True, allow_null=True)
    autonomie = BlankAsNullChoiceField(c.AUTONOMIE, help_text="Accompagnement individuel seulement.")
    oriente = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="Bénéficiaire réorienté (accompagnement individuel)."
    )
    structure_redirection = BlankAsNullChoiceField(
        c.STRUCTURE_REDIRECTION, help_text="Vers quel type de structure (accompagnement individuel réorienté)."
    )
    niveau = BlankAsNullChoiceField(c.NIVEAU_ATELIER, help_text="Atelier collectif seulement.")
    participants = serializers.IntegerField(read_only=True, allow_null=True, min_value=1)
    repartition = serializers.SerializerMethodField()

    class Meta:
        model = Activite
        fields = [
            "uuid",
            "supprimee",
            "supprimee_le",
            "conseiller",
            "type",
            "date",
            "duree",
            "type_lieu",
            "lieu",
            "code_insee",
            "commune",
            "thematiques",
            "materiel",
            "autonomie",
            "oriente",
            "structure_redirection",
            "niveau",
            "participants",
            "repartition",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    # Still shown for a deleted activity (a tombstone); every other field is null.
    TOMBSTONE_FIELDS = ("uuid", "supprimee", "supprimee_le", "created_at", "updated_at")

    def get_supprimee(self, activite) -> bool:
        return activite.supprimee_le is not None

    @extend_schema_field(ActiviteRepartitionSerializer(allow_null=True))
    def get_repartition(self, activite):
        # Already in its final shape (``repartitions``: every code of each vocabulary, in the vocabulary's order, an
        # int each), exactly what ActiviteRepartitionSerializer, the schema, would give: building that serializer
        # for each row deep-copied its 19 fields every time, the better part of a list's time.
        return activite.repartition

    def to_representation(self, activite):
        if activite.supprimee_le is None:
            return super().to_representation(activite)
        data = dict.fromkeys(self.Meta.fields)
        for name in self.TOMBSTONE_FIELDS:
            data[name] = self.fields[name].to_representation(self.fields[name].get_attribute(activite))
        return data


ACTIVITE_EXAMPLE = {
    "uuid": "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
    "supprimee": False,
    "supprimee_le": None,
    "conseiller": "0b9e7d6c-5a4b-4c3d-8e2f-1a0b9c8d7e6f",
    "type": "collectif",
    "date": "2026-10-14",
    "duree": 120,
    "type_lieu": "lieu_activite",
    "lieu": "7e6d5c4b-3a29-4f18-9e07-d6c5b4a39281",
    "code_insee": "31254",
    "commune": "Labège",
    "thematiques": ["securite_numerique", "email"],
    "materiel": ["ordinateur"],
    "autonomie": None,
    "oriente": None,
    "structure_redirection": None,
    "niveau": "debutant",
    "participants": 6,
    "repartition": {
        "genre": {"masculin": 2, "feminin": 3, "non_communique": 1},
        "tranche_age": {
            "moins_de_douze": 0,
            "douze_dix_huit": 0,
            "dix_huit_vingt_quatre": 0,
            "vingt_cinq_trente_neuf": 1,
            "quarante_cinquante_neuf": 1,
            "soixante_soixante_neuf": 2,
            "soixante_dix_plus": 2,
            "non_communique": 0,
        },
        "statut_social": {"scolarise": 0, "sans_emploi": 1, "en_emploi": 1, "retraite": 4, "non_communique": 0},
    },
    "created_at": "2026-10-14T17:05:12+02:00",
    "updated_at": "2026-10-14T17:05:12+02:00",
}
TOMBSTONE_EXAMPLE = {
    **dict.fromkeys(ACTIVITE_EXAMPLE),
    "uuid": "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b",
    "supprimee": True,
    "supprimee_le": "2026-11-02T09:41:00+01:00",
    "created_at": "2026-10-30T11:20:00+01:00",
    "updated_at": "2026-11-02T09:41:00+01:00",
}
EXAMPLES = [
    OpenApiExample("Un atelier collectif", value=ACTIVITE_EXAMPLE, response_only=True),
    OpenApiExample("Une activité supprimée", value=TOMBSTONE_EXAMPLE, response_only=True),
]


# --- Filters -----------------------------------------------------------------------------------------------------
class ActiviteFilter(SyncFilterSet):
    du = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", help_text="Activités de cette date ou après (AAAA-MM-JJ)."
    )
    au = django_filters.DateFilter(
        field_name="date",
        lookup_expr="lte",
        help_text="Activités de cette date ou avant (AAAA-MM-JJ) ; jamais avant `du` (400).",
    )
    type = django_filters.ChoiceFilter(choices=c.TYPE_ACTIVITE, help_text="`individuel` ou `collectif`.")
    type_lieu = django_filters.ChoiceFilter(choices=c.TYPE_LIEU, help_text="Canal d'accompagnement.")
    thematique = django_filters.ChoiceFilter(
        choices=c.THEMATIQUES, method="filter_thematique", help_text="Les activités qui ont cette thématique."
    )
    commune = django_filters.CharFilter(
        field_name="commune__code_insee",
        validators=[INSEE_CODE],
        # Not stripped: « commune=%0C » is a malformed code (400), not an empty filter that lists everything.
        strip=False,
        help_text="Code INSEE de la commune où l'activité a eu lieu.",
    )
    conseiller = django_filters.UUIDFilter(field_name="conseiller__uuid", help_text="Identifiant d'un conseiller.")

    class Meta:
        model = Activite
        fields = ["du", "au", "type", "type_lieu", "thematique", "commune", "conseiller", "modified_since"]

    def filter_thematique(self, queryset, name, value):
        return apply_filters(queryset, {"thematique": value})  # the web pages' filter

    def is_valid(self):
        valid = super().is_valid()  # empty parameters and modified_since: the base class
        if valid:
            du, au = self.form.cleaned_data.get("du"), self.form.cleaned_data.get("au")
            if du and au and du > au:
                self.form.add_error("au", "La fin de la période (au) doit suivre son début (du).")
                return False
        return valid


# --- The endpoint ------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Activités des conseillers (anonymisées)",
        description="Les activités (comptes rendus d'activité) enregistrées par les conseillers pendant qu'ils "
        "étaient employés par votre structure, avec les champs de l'outil national : type, date, durée, lieu et "
        "commune, thématiques, matériel, nombre de participants et leur répartition par genre, tranche d'âge et "
        "statut, autonomie, niveau et réorientation. Jamais les notes, ni un texte libre (nom de la démarche, titre de "
        "l'atelier : ils peuvent nommer une personne), ni l'identité d'un bénéficiaire ; le conseiller par son "
        "identifiant seulement.\n\n"
        "**Synchronisation.** Sans `modified_since` : les activités en vigueur. Avec `modified_since` : tout ce qui "
        "a changé depuis, y compris les activités supprimées, sous la forme `supprimee: true` (les autres champs "
        "à null) : supprimez-les de votre copie. Suivez `next` jusqu'au bout.",
        parameters=[
            OpenApiParameter(
                "commune",
                str,
                pattern=INSEE_PATTERN,
                description="Code INSEE de la commune où l'activité a eu lieu.",
            ),
        ],
        examples=EXAMPLES,
        tags=["activites"],
    ),
    retrieve=extend_schema(
        summary="Une activité (anonymisée)",
        description="Une activité de votre structure par son identifiant (404 pour une activité supprimée ou d'une "
        "autre structure).",
        examples=EXAMPLES[:1],
        tags=["activites"],
    ),
)
class ActiviteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PartnerViewSet):
    serializer_class = ActiviteSerializer
    scope_family = "activites"
    queryset = Activite.objects.none()
    filterset_class = ActiviteFilter
    ordering_fields = ["updated_at", "date"]

    def scoped_queryset(self, structure):
        activites = activites_of_structure(structure)
        if self.action == "list" and "modified_since" in self.request.query_params:
            return activites  # a synchronisation: deletions too, as tombstones
        return activites.actives()

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            self._attach_repartitions(page)
        return page

    def get_object(self):
        activite = super().get_object()
        self._attach_repartitions([activite])
        return activite

    def _attach_repartitions(self, activites):
        counts = repartitions(activites)
        for activite in activites:
            activite.repartition = counts.get(activite.pk)
