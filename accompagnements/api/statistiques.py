"""Territorial statistics of the activity log for partner systems: ``GET /api/v1/statistiques/`` (scope
``statistiques:read``), one object, not a list.

What is counted: every live activity of the territory (every structure's, whoever the calling client belongs to:
these are the aggregates a Département or a hub needs), over a period, optionally filtered by commune, thématique,
activity type and employer structure. The figures are those of "Mes statistiques" and of the share links
(``reporting.resume.statistiques``), plus the number of distinct followed beneficiaries.

The figures are read from the activity summaries (``reporting.resume``), kept by month: a period is counted in
whole months, and the answer's ``periode`` says which.

Queries, whatever the number of activities: 1 for the token (with its client and structure), 3 for the figures,
1 for the distinct followed beneficiaries: 5; plus 1 for each ``commune`` or ``structure`` filter (to tell an
unknown one apart), and 1 when the client's "last used" date is refreshed (at most every 5 minutes): 10 at most.

Small counts, for every client without ``statistiques_detaillees`` (the rule of the share links, extended):

1. every count from 1 to 4 is hidden (``nombre: null, masque: true``; a total: ``null``), in every breakdown and
   in the totals. Counts of activities are hidden on the same threshold: an activity has at least one participant,
   so a cell of fewer than 5 people is always a cell of fewer than 5 activities;
2. in a breakdown whose rows add up to a published total (all but the thématiques, where an activity counts once
   per thématique), when a single row would be hidden the smallest other non-zero row is hidden too, so that the
   total minus the rows shown never gives a hidden count (a zero would not do: total minus shown would then be the
   hidden count itself). Without any other non-zero row the single small row is the whole total, hidden by rule 1;
3. the time spent is hidden with the total of activities.

Masks protect each answer; comparing answers for neighbouring filters or periods can still narrow a count down.
That is why the API is for identified partners only, and why every call is logged with its client.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from accompagnements import choices as c
from accompagnements import statistiques as figures
from accompagnements.models import Activite
from accompagnements.selectors import clamp_period, default_period
from reporting import resume
from sicoval_numerique.api.partner import PartnerViewSet
from sicoval_numerique.forms import MOIS_MAX as DATE_MAX
from sicoval_numerique.forms import MOIS_MIN as DATE_MIN
from structures.models import Commune, Structure

SEUIL = figures.PETIT_EFFECTIF
CODE_INSEE = r"^[0-9][0-9AB][0-9]{3}$"
CODE_DEPARTEMENT = r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$"

NOUVEAUX, DEJA_ACCOMPAGNES = "nouveaux", "deja_accompagnes"
LIBELLES_BENEFICIAIRES = {NOUVEAUX: "Nouveaux bénéficiaires", DEJA_ACCOMPAGNES: "Bénéficiaires déjà accompagnés"}


def activites_territoire():
    """Every live activity of the territory: the base of the territorial statistics, whatever the caller's
    structure (people are protected by the masking of small counts, not by a scope)."""
    return Activite.objects.actives()


# --- Parameters -------------------------------------------------------------------------------------------------
def _date(help_text):
    return serializers.DateField(
        required=False,
        help_text=help_text,
        error_messages={"invalid": "Date invalide : le format attendu est AAAA-MM-JJ, par exemple 2025-01-31."},
    )


class StatistiquesParametres(serializers.Serializer):
    """The query string: validated strictly (every refused value answers 400 with a French message)."""

    du = _date(
        "Début de la période, AAAA-MM-JJ, compté à partir du premier jour de son mois. Par défaut : onze mois "
        "avant la fin (les douze derniers mois)."
    )
    au = _date("Fin de la période, AAAA-MM-JJ, comptée jusqu'au dernier jour de son mois. Par défaut : aujourd'hui.")
    commune = serializers.RegexField(
        CODE_INSEE,
        required=False,
        help_text="Code INSEE d'une commune : les activités tenues dans cette commune (les activités à distance "
        "n'ont pas de commune).",
        error_messages={
            "invalid": "Code INSEE invalide : cinq caractères, par exemple 31254.",
            "blank": "Ce paramètre ne peut pas être vide : donnez un code INSEE.",
        },
    )
    departement = serializers.RegexField(
        CODE_DEPARTEMENT,
        required=False,
        help_text="Code officiel d'un département (31, 2A, 974…) : les activités tenues dans ses communes (les "
        "activités à distance n'ont pas de commune).",
        error_messages={
            "invalid": "Code de département invalide : par exemple 31, 2A ou 974.",
            "blank": "Ce paramètre ne peut pas être vide : donnez un code de département.",
        },
    )
    thematique = serializers.ChoiceField(
        choices=c.THEMATIQUES,
        required=False,
        help_text="Code d'une thématique du vocabulaire national (La Coop de la médiation numérique), y compris les "
        "domaines d'aide aux démarches administratives : les activités qui l'ont abordée.",
        error_messages={"invalid_choice": "« {input} » n'est pas une thématique du vocabulaire national."},
    )
    type = serializers.ChoiceField(
        choices=c.TYPE_ACTIVITE,
        required=False,
        help_text="Type d'activité : `individuel` (accompagnement individuel) ou `collectif` (atelier collectif).",
        error_messages={"invalid_choice": "« {input} » n'est pas un type d'activité : individuel ou collectif."},
    )
    structure = serializers.UUIDField(
        required=False,
        help_text="Identifiant (UUID) d'une structure : les activités de ses conseillers (structure employeuse à la "
        "date de l'activité).",
        error_messages={"invalid": "Identifiant de structure invalide : un UUID est attendu."},
    )

    def _in_range(self, value):
        if not DATE_MIN <= value <= DATE_MAX:
            raise serializers.ValidationError(
                f"Choisissez une date entre le {DATE_MIN:%d/%m/%Y} et le {DATE_MAX:%d/%m/%Y}."
            )
        return value

    def validate_du(self, value):
        return self._in_range(value)

    def validate_au(self, value):
        return self._in_range(value)

    def validate(self, data):
        au = data.get("au") or timezone.localdate()
        du = data.get("du") or default_period(au)[0]
        if du > au:
            key, message = ("au", "La date de fin doit suivre la date de début.")
            if "au" not in data:
                key, message = ("du", "La date de début ne peut pas suivre la date de fin (aujourd'hui par défaut).")
            raise serializers.ValidationError({key: [message]})
        if clamp_period(du, au)[0] != du:
            raise serializers.ValidationError(
                {"du": ["Une période ne dépasse pas dix ans : choisissez une date de début plus récente."]}
            )
        return {**data, "du": du, "au": au}


PARAMETRES = tuple(StatistiquesParametres().fields)


# --- Answer -----------------------------------------------------------------------------------------------------
class LignesStatistiquesSerializer(serializers.ListSerializer):
    """The rows of a breakdown as they are: ``_ligne`` builds each with the types of ``LigneStatistiqueSerializer``
    (code str or null, libelle str, nombre int or null, masque bool), and the nation's breakdown by commune has
    thousands of rows, which a field call per value took tens of milliseconds to copy."""

    def to_representation(self, data):
        return list(data)


class LigneStatistiqueSerializer(serializers.Serializer):
    code = serializers.CharField(
        allow_null=True,
        help_text="Le code national tel quel (thématique, type, lieu, genre…), le mois (AAAA-MM) ou le code INSEE ; "
        "null pour la ligne « À distance ou sans commune ».",
    )
    libelle = serializers.CharField(help_text="Le libellé en français.")
    nombre = serializers.IntegerField(allow_null=True, help_text="Le nombre, ou null quand il est masqué.")
    masque = serializers.BooleanField(
        help_text="Vrai quand le nombre est masqué : moins de 5, ou masqué avec lui pour qu'on ne puisse pas le "
        "retrouver par soustraction."
    )

    class Meta:
        list_serializer_class = LignesStatistiquesSerializer


class StatistiquesPeriodeSerializer(serializers.Serializer):
    du = serializers.DateField()
    au = serializers.DateField()


class StatistiquesFiltresSerializer(serializers.Serializer):
    commune = serializers.CharField(allow_null=True)
    departement = serializers.CharField(allow_null=True)
    thematique = serializers.CharField(allow_null=True)
    type = serializers.CharField(allow_null=True)
    structure = serializers.UUIDField(allow_null=True)


class StatistiquesTotauxSerializer(serializers.Serializer):
    activites = serializers.IntegerField(
        allow_null=True,
        help_text="Activités : chaque accompagnement individuel et chaque atelier compte une fois, quel que soit le "
        "nombre de participants. Les activités supprimées ne comptent pas.",
    )
    accompagnements = serializers.IntegerField(
        allow_null=True,
        help_text="Accompagnements : un atelier compte un accompagnement par participant, un accompagnement "
        "individuel un seul. Une personne accompagnée trois fois compte trois fois.",
    )
    beneficiaires_suivis = serializers.IntegerField(
        allow_null=True,
        help_text="Bénéficiaires suivis distincts : les personnes suivies nominativement (avec leur consentement) "
        "accompagnées sur la période, chacune une fois. Les personnes anonymes ne peuvent pas être dédoublonnées et "
        "n'y comptent pas ; une personne suivie par deux conseillers compte deux fois.",
    )
    duree_minutes = serializers.IntegerField(
        allow_null=True,
        help_text="Temps d'accompagnement en minutes : la somme des durées saisies (un atelier de deux heures compte "
        "deux heures, quel que soit le nombre de participants).",
    )
    heures = serializers.FloatField(allow_null=True, help_text="Le même temps en heures, arrondi au centième.")


def _lignes(help_text):
    return LigneStatistiqueSerializer(many=True, help_text=help_text)


class StatistiquesRepartitionsSerializer(serializers.Serializer):
    mois = _lignes("Accompagnements par mois de la période (tous les mois, même à zéro), dans l'ordre.")
    thematiques = _lignes(
        "Activités par thématique, dans l'ordre du vocabulaire national (toutes, même à zéro). Une activité compte "
        "une fois pour chacune de ses thématiques : la somme dépasse le nombre d'activités."
    )
    demarches = _lignes(
        "Parmi les aides aux démarches administratives, activités par domaine de démarche (tous, même à zéro) ; "
        "une activité compte une fois par domaine coché."
    )
    types = _lignes("Activités par type : accompagnement individuel ou atelier collectif.")
    types_lieu = _lignes("Activités par type de lieu.")
    durees = _lignes(
        "Activités par tranche de durée (borne basse incluse, borne haute exclue) : moins de 30 min, de 30 min à "
        "1 h, de 1 h à 2 h, 2 h et plus."
    )
    communes = _lignes(
        "Accompagnements par commune où l'activité s'est tenue, par code INSEE ; les activités à distance et "
        "celles sans commune sont comptées à part (code null)."
    )
    beneficiaires = _lignes(
        "Accompagnements de personnes accompagnées pour la première fois (`nouveaux`) ou déjà accompagnées "
        "(`deja_accompagnes`)."
    )
    genres = _lignes("Accompagnements par genre, tel que saisi (`non_communique` sinon).")
    tranches_age = _lignes("Accompagnements par tranche d'âge, telle que saisie (`non_communique` sinon).")
    statuts = _lignes("Accompagnements par statut, tel que saisi (`non_communique` sinon).")


EXEMPLE = {
    "periode": {"du": "2025-01-01", "au": "2025-12-31"},
    "filtres": {"commune": None, "departement": None, "thematique": None, "type": None, "structure": None},
    "statistiques_detaillees": False,
    "seuil_masquage": SEUIL,
    "totaux": {
        "activites": 412,
        "accompagnements": 655,
        "beneficiaires_suivis": 38,
        "duree_minutes": 24630,
        "heures": 410.5,
    },
    "repartitions": {
        "mois": [
            {"code": "2025-01", "libelle": "janvier 2025", "nombre": 61, "masque": False},
            {"code": "2025-02", "libelle": "février 2025", "nombre": 48, "masque": False},
        ],
        "thematiques": [
            {"code": "diagnostic_numerique", "libelle": "Diagnostic numérique", "nombre": 37, "masque": False},
            {
                "code": "intelligence_artificielle",
                "libelle": "Intelligence artificielle (IA)",
                "nombre": None,
                "masque": True,
            },
        ],
        "demarches": [{"code": "logement", "libelle": "Logement", "nombre": 12, "masque": False}],
        "types": [
            {"code": "individuel", "libelle": "Accompagnement individuel", "nombre": 371, "masque": False},
            {"code": "collectif", "libelle": "Atelier collectif", "nombre": 41, "masque": False},
        ],
        "types_lieu": [{"code": "lieu_activite", "libelle": "Lieu d’activité", "nombre": 302, "masque": False}],
        "durees": [{"code": "moins_30", "libelle": "Moins de 30 min", "nombre": 88, "masque": False}],
        "communes": [
            {"code": "31254", "libelle": "Labège", "nombre": 140, "masque": False},
            {"code": "31384", "libelle": "Montlaur", "nombre": None, "masque": True},
            {"code": None, "libelle": figures.SANS_COMMUNE, "nombre": 57, "masque": False},
        ],
        "beneficiaires": [
            {"code": NOUVEAUX, "libelle": LIBELLES_BENEFICIAIRES[NOUVEAUX], "nombre": 402, "masque": False},
            {
                "code": DEJA_ACCOMPAGNES,
                "libelle": LIBELLES_BENEFICIAIRES[DEJA_ACCOMPAGNES],
                "nombre": 253,
                "masque": False,
            },
        ],
        "genres": [{"code": "feminin", "libelle": "Féminin", "nombre": 371, "masque": False}],
        "tranches_age": [{"code": "soixante_dix_plus", "libelle": "70 ans et plus", "nombre": 96, "masque": False}],
        "statuts": [{"code": "retraite", "libelle": "Retraité", "nombre": 250, "masque": False}],
    },
}


@extend_schema_serializer(many=False)
class StatistiquesSerializer(serializers.Serializer):
    periode = StatistiquesPeriodeSerializer(
        help_text="La période comptée, bornes incluses : des mois entiers (les statistiques sont tenues par mois ; "
        "`du` est ramené au premier jour de son mois, `au` au dernier jour du sien)."
    )
    filtres = StatistiquesFiltresSerializer(help_text="Les filtres appliqués (null : pas de filtre).")
    statistiques_detaillees = serializers.BooleanField(
        help_text="Vrai pour un client aux statistiques détaillées (équipe Sicoval) : aucun nombre n'est masqué."
    )
    seuil_masquage = serializers.IntegerField(
        help_text="Sans statistiques détaillées, tout nombre de 1 à seuil_masquage − 1 est masqué."
    )
    totaux = StatistiquesTotauxSerializer(help_text="Les totaux de la période ; null quand un total est masqué.")
    repartitions = StatistiquesRepartitionsSerializer(
        help_text="Les répartitions, chacune une liste de lignes {code, libelle, nombre, masque}, les codes "
        "nationaux tels quels."
    )


# --- Computation ------------------------------------------------------------------------------------------------
def _ligne(code, libelle, nombre):
    """A row of a breakdown, written as it is (``LignesStatistiquesSerializer``): ``code`` a str or None (codes,
    months AAAA-MM and INSEE codes are strings), ``libelle`` a str, ``nombre`` an int (sums of integer columns)."""
    return {"code": code, "libelle": libelle, "nombre": nombre, "masque": False}


def masquer(lignes, *, additive):
    """Hides the small counts of one breakdown (rules 1 and 2 of the module's docstring), in place."""
    petites = [ligne for ligne in lignes if 0 < ligne["nombre"] < SEUIL]
    if additive and len(petites) == 1:
        autres = [ligne for ligne in lignes if ligne is not petites[0] and ligne["nombre"]]
        if autres:
            petites.append(min(autres, key=lambda ligne: ligne["nombre"]))
    for ligne in petites:
        ligne["nombre"], ligne["masque"] = None, True
    return lignes


def _masquer_totaux(totaux):
    """Rule 1 on the totals, and rule 3: the time goes with the number of activities."""
    for key in ("activites", "accompagnements", "beneficiaires_suivis"):
        if 0 < totaux[key] < SEUIL:
            totaux[key] = None
    if totaux["activites"] is None:
        totaux["duree_minutes"] = totaux["heures"] = None
    return totaux


def _vocabulary(vocabulary, counts):
    return [_ligne(code, libelle, counts.get(code, 0)) for code, libelle in vocabulary]


def _from_figure(figure):
    return [_ligne(ligne.code, ligne.label, ligne.value) for ligne in figure.lignes]


def _communes(figure):
    lignes = [_ligne(None if ligne.code == "sans" else ligne.code, ligne.label, ligne.value) for ligne in figure.lignes]
    # An order that does not depend on the counts: the place of a hidden row says nothing of its size.
    return sorted(lignes, key=lambda ligne: (ligne["code"] is None, ligne["code"] or ""))


def statistiques_territoriales(du, au, *, detaillees, **filtres):
    """The answer's ``totaux`` and ``repartitions`` of the whole months from ``du`` to ``au``, read from the activity
    summaries (``reporting.resume``) with ``filtres`` (communes, structures, thematique, type): four queries."""
    stats = resume.statistiques(du, au, **filtres)
    suivis = resume.beneficiaires_suivis(du, au, **filtres)
    chiffres = stats.chiffres
    totaux = {
        "activites": chiffres["activites"],
        "accompagnements": chiffres["accompagnements"],
        "beneficiaires_suivis": suivis,
        "duree_minutes": chiffres["duree"],
        "heures": round(chiffres["duree"] / 60, 2),
    }
    labels_type = dict(c.TYPE_ACTIVITE)
    # (key, rows, whether the rows add up to a published total)
    repartitions = [
        ("mois", _from_figure(stats.figure("mois")), True),
        ("thematiques", _vocabulary(c.THEMATIQUES_GENERALES, stats.figure("thematiques").values()), False),
        ("demarches", _vocabulary(c.THEMATIQUES_ADMINISTRATIVES, stats.figure("demarches").values()), False),
        (
            "types",
            [
                _ligne(c.INDIVIDUEL, labels_type[c.INDIVIDUEL], chiffres["individuels"]),
                _ligne(c.COLLECTIF, labels_type[c.COLLECTIF], chiffres["collectifs"]),
            ],
            True,
        ),
        ("types_lieu", _from_figure(stats.figure("lieux")), True),
        ("durees", _from_figure(stats.figure("durees")), True),
        ("communes", _communes(stats.figure("communes")), True),
        (
            "beneficiaires",
            [_ligne(code, libelle, chiffres[code]) for code, libelle in LIBELLES_BENEFICIAIRES.items()],
            True,
        ),
        ("genres", _from_figure(stats.figure("genre")), True),
        ("tranches_age", _from_figure(stats.figure("tranche_age")), True),
        ("statuts", _from_figure(stats.figure("statut_social")), True),
    ]
    if not detaillees:
        _masquer_totaux(totaux)
        for _key, lignes, additive in repartitions:
            masquer(lignes, additive=additive)
    return {
        "periode": {"du": stats.start, "au": stats.end},
        "totaux": totaux,
        "repartitions": {key: lignes for key, lignes, _additive in repartitions},
    }


# --- Endpoint ---------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="Statistiques territoriales",
        operation_id="statistiques_territoriales",
        description=(
            "Les chiffres des comptes rendus d'activité de tous les conseillers du territoire (toutes structures), "
            "sur une période (par défaut les douze derniers mois) : totaux, et répartitions par mois, thématique, "
            "type d'activité, type de lieu, durée, commune, bénéficiaires nouveaux ou déjà accompagnés, genre, "
            "tranche d'âge et statut. Les codes sont ceux du vocabulaire national (La Coop de la médiation "
            "numérique) ; les activités supprimées ne comptent pas.\n\n"
            "**Petits effectifs.** Sauf pour un client aux statistiques détaillées (équipe Sicoval), tout nombre de "
            "1 à 4 est masqué (`nombre: null`, `masque: true` ; un total masqué vaut `null`) : dans les "
            "répartitions et dans les totaux, nombres d'activités compris (une activité compte au moins une "
            "personne). Quand une seule ligne d'une répartition serait masquée, la plus petite autre ligne non nulle "
            "l'est aussi, pour que le total moins les lignes affichées ne redonne pas le nombre masqué (sauf pour "
            "les thématiques, dont la somme n'est pas un total). Le temps d'accompagnement est masqué avec le "
            "nombre d'activités."
        ),
        parameters=[StatistiquesParametres],
        responses={200: StatistiquesSerializer},
        examples=[OpenApiExample("Douze mois du territoire", value=EXEMPLE, response_only=True)],
        tags=["statistiques"],
    )
)
class StatistiquesViewSet(PartnerViewSet):
    """One object computed from the query string; the scope is the whole territory (see the module's docstring)."""

    scope_family = "statistiques"
    queryset = Activite.objects.none()  # the model, for the schema; never read
    serializer_class = StatistiquesSerializer
    pagination_class = None
    filter_backends = []

    def scoped_queryset(self, structure):
        # Territorial statistics: the same base for every client, whatever its structure.
        return activites_territoire()

    def list(self, request, *args, **kwargs):
        raw = {name: request.query_params[name] for name in PARAMETRES if name in request.query_params}
        parametres = StatistiquesParametres(data=raw)  # a plain dict: a blank value is refused, never ignored
        parametres.is_valid(raise_exception=True)
        data = parametres.validated_data
        filtres = {}
        if "commune" in data:
            commune_id = Commune.objects.filter(code_insee=data["commune"]).values_list("pk", flat=True).first()
            if commune_id is None:
                raise serializers.ValidationError({"commune": ["Aucune commune connue n'a ce code INSEE."]})
            filtres["communes"] = [commune_id]
        if "departement" in data:
            filtres["departement"] = data["departement"]
        if "structure" in data:
            structure_id = Structure.objects.filter(uuid=data["structure"]).values_list("pk", flat=True).first()
            if structure_id is None:
                raise serializers.ValidationError({"structure": ["Aucune structure n'a cet identifiant."]})
            filtres["structures"] = [structure_id]
        if "thematique" in data:
            filtres["thematique"] = data["thematique"]
        if "type" in data:
            filtres["type"] = data["type"]
        detaillees = self.client.statistiques_detaillees
        resultat = statistiques_territoriales(data["du"], data["au"], detaillees=detaillees, **filtres)
        body = {
            "filtres": {name: data.get(name) for name in ("commune", "departement", "thematique", "type", "structure")},
            "statistiques_detaillees": detaillees,
            "seuil_masquage": SEUIL,
            **resultat,
        }
        return Response(StatistiquesSerializer(body).data)


__all__ = ["StatistiquesViewSet", "activites_territoire", "masquer", "statistiques_territoriales"]
