"""Every write on posts, conseillers, recruitment, contracts, training and avenants.

Each service checks the actor, validates with French messages, owns its transaction, takes the locks it needs and
records the acting user in the history. ``Poste.structure`` and ``Poste.etat`` are caches of the dated attachments
and assignments: they change here only, in the same transaction as those rows.

Who writes: Sicoval staff, everything; a structure's référent, the conseillers of their structure, their
recruitment records, contracts on the posts attached to their structure, trainings of their conseillers and avenant
requests; nobody else.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from structures.models import Structure
from structures.selectors import structures_editable_by

from . import choices
from .choices import MISE_EN_RELATION_TRANSITIONS, STATUTS_RECRUTES, EtatPoste, StatutMiseEnRelation, TypeContrat
from .models import Affectation, Avenant, Conseiller, Contrat, Formation, MiseEnRelation, Poste, Rattachement
from .selectors import conseillers_editable_by


def _fmt(date):
    return f"{date:%d/%m/%Y}"


def _save(instance, by, *, conflict="Cet enregistrement entre en conflit avec un autre."):
    instance._history_user = by
    instance.full_clean()
    try:
        # A savepoint keeps the caller's transaction usable after a constraint refused the row.
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError(conflict) from error
    return instance


def _require_staff(by, what):
    if not by.is_staff:
        raise PermissionDenied(f"Seule l'équipe Sicoval {what}.")


def _require_structure_editor(by, structure, message="Vous ne pouvez agir que pour votre structure."):
    if not by.is_staff and not structures_editable_by(by).filter(pk=structure.pk).exists():
        raise PermissionDenied(message)


def _require_conseiller_editor(by, conseiller):
    if not by.is_staff and not conseillers_editable_by(by).filter(pk=conseiller.pk).exists():
        raise PermissionDenied("Vous ne pouvez modifier que les conseillers de votre structure.")


def _refuse_future(date):
    if date > timezone.localdate():
        raise ValidationError(
            "Cette date est dans le futur : enregistrez ce changement le jour venu.", code="future_date"
        )


def _lock_poste(poste):
    return Poste.objects.select_for_update().select_related("structure").get(pk=poste.pk)


def _granted_count(structure):
    """Posts currently attached to the structure and not returned."""
    return Poste.objects.filter(structure=structure).exclude(etat=EtatPoste.RENDU).count()


def _hired_count(structure):
    return MiseEnRelation.objects.filter(structure=structure, statut__in=STATUTS_RECRUTES).count()


def _check_hired_within_granted(structure, *, leaving):
    """After a post leaves ``structure`` (move or return), its hired people must still fit in its posts.
    The caller holds the structure's row lock."""
    hired, granted = _hired_count(structure), _granted_count(structure) - leaving
    if hired > granted:
        raise ValidationError(
            f"{structure} compte {hired} personne(s) recrutée(s) : elle ne peut pas descendre à {granted} poste(s). "
            "Clôturez d'abord un recrutement.",
            code="hired_exceeds_granted",
        )


COSELEC_AFTER_ATTRIBUTION = "La décision du comité de sélection ne peut pas suivre l'attribution du poste."


# --- Posts -------------------------------------------------------------------------------------------------------
@transaction.atomic
def poste_create(*, structure, typologie, phase, date_attribution, coselec_date=None, coselec_reference="", by):
    """Attribute a post to a structure: the post, vacant, and its first attachment from the attribution date."""
    _require_staff(by, "attribue des postes")
    if coselec_date and date_attribution and coselec_date > date_attribution:
        raise ValidationError({"coselec_date": COSELEC_AFTER_ATTRIBUTION})
    poste = Poste(
        structure=structure,
        typologie=typologie,
        phase=phase,
        date_attribution=date_attribution,
        coselec_date=coselec_date,
        coselec_reference=coselec_reference,
        etat=EtatPoste.VACANT,
    )
    _save(poste, by)
    _save(Rattachement(poste=poste, structure=structure, date_debut=date_attribution), by)
    return poste


@transaction.atomic
def poste_move(*, poste, structure, date, by):
    """Attach the post to another structure from ``date``: the current attachment ends that day."""
    _require_staff(by, "déplace des postes")
    poste = _lock_poste(poste)
    if poste.etat == EtatPoste.RENDU:
        raise ValidationError("Ce poste est rendu : il ne peut plus changer de structure.", code="poste_rendu")
    current = poste.rattachements.select_for_update().get(date_fin__isnull=True)
    if structure.pk == current.structure_id:
        raise ValidationError("Le poste est déjà rattaché à cette structure.", code="same_structure")
    if date <= current.date_debut:
        raise ValidationError(
            f"Le changement de structure doit suivre le début du rattachement actuel ({_fmt(current.date_debut)}).",
            code="date_before_attachment",
        )
    _refuse_future(date)
    old_structure = Structure.objects.select_for_update().get(pk=current.structure_id)
    _check_hired_within_granted(old_structure, leaving=1)
    current.date_fin = date
    _save(current, by)
    _save(Rattachement(poste=poste, structure=structure, date_debut=date), by)
    poste.structure = structure
    return _save(poste, by)


@transaction.atomic
def poste_assign(*, poste, conseiller, date, by):
    """Make ``conseiller`` the occupant of the post from ``date``."""
    _require_staff(by, "affecte les conseillers aux postes")
    poste = _lock_poste(poste)
    conseiller = Conseiller.objects.select_for_update().get(pk=conseiller.pk)
    if poste.etat == EtatPoste.RENDU:
        raise ValidationError("Ce poste est rendu : il ne peut plus être occupé.", code="poste_rendu")
    if date < poste.date_attribution:
        raise ValidationError(
            f"Le poste n'est attribué que depuis le {_fmt(poste.date_attribution)}.", code="before_attribution"
        )
    _refuse_future(date)
    holder = poste.affectations.filter(date_fin__isnull=True).select_related("conseiller").first()
    if holder:
        raise ValidationError(f"Ce poste est déjà occupé par {holder.conseiller}.", code="poste_occupe")
    if conseiller.affectations.filter(date_fin__isnull=True).exists():
        raise ValidationError(f"{conseiller} occupe déjà un autre poste.", code="conseiller_en_poste")
    if poste.affectations.filter(date_fin__gt=date).exists():
        raise ValidationError("Le poste était encore occupé à cette date.", code="overlap_poste")
    if conseiller.affectations.filter(date_fin__gt=date).exists():
        raise ValidationError(f"{conseiller} occupait encore un autre poste à cette date.", code="overlap_person")
    affectation = _save(
        Affectation(poste=poste, conseiller=conseiller, date_debut=date),
        by,
        conflict="Ce poste ou cette personne a déjà une affectation en cours.",
    )
    poste.etat = EtatPoste.OCCUPE
    _save(poste, by)
    return affectation


@transaction.atomic
def poste_release(*, poste, date, by):
    """End the current occupant's assignment on ``date``; the post becomes vacant."""
    _require_staff(by, "libère les postes")
    poste = _lock_poste(poste)
    current = poste.affectations.select_for_update().filter(date_fin__isnull=True).first()
    if current is None:
        raise ValidationError("Ce poste n'est pas occupé.", code="poste_vacant")
    if date <= current.date_debut:
        raise ValidationError(
            f"Le départ doit suivre la prise de poste ({_fmt(current.date_debut)}).", code="date_before_assignment"
        )
    _refuse_future(date)
    current.date_fin = date
    _save(current, by)
    poste.etat = EtatPoste.VACANT
    _save(poste, by)
    return current


@transaction.atomic
def poste_return(*, poste, date, by):
    """Give the post back on ``date`` (it leaves the territory's granted posts); refused while it is occupied."""
    _require_staff(by, "rend des postes")
    poste = _lock_poste(poste)
    if poste.etat == EtatPoste.RENDU:
        raise ValidationError(f"Ce poste est déjà rendu (le {_fmt(poste.date_rendu)}).", code="poste_rendu")
    if poste.affectations.filter(date_fin__isnull=True).exists():
        raise ValidationError("Ce poste est occupé : libérez-le avant de le rendre.", code="poste_occupe")
    last_end = poste.affectations.order_by("-date_fin").values_list("date_fin", flat=True).first()
    if last_end and date < last_end:
        raise ValidationError(
            f"Le poste était occupé jusqu'au {_fmt(last_end)} : il ne peut pas être rendu avant.", code="too_early"
        )
    current = poste.rattachements.select_for_update().get(date_fin__isnull=True)
    if date <= current.date_debut:
        raise ValidationError(
            f"Le rendu doit suivre le début du rattachement actuel ({_fmt(current.date_debut)}).",
            code="date_before_attachment",
        )
    _refuse_future(date)
    structure = Structure.objects.select_for_update().get(pk=current.structure_id)
    _check_hired_within_granted(structure, leaving=1)
    current.date_fin = date
    _save(current, by)
    poste.etat = EtatPoste.RENDU
    poste.date_rendu = date
    return _save(poste, by)


# --- Conseillers and recruitment ---------------------------------------------------------------------------------
CONSEILLER_FIELDS = {"prenom", "nom", "email", "telephone", "est_coordinateur", "coordinateur", "user"}
# Linking a person to a login account is staff's call: the account then sees that person's data.
CONSEILLER_STAFF_ONLY_FIELDS = {"user"}


def _check_conseiller_fields(fields, by):
    unknown = set(fields) - CONSEILLER_FIELDS
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    if not by.is_staff and CONSEILLER_STAFF_ONLY_FIELDS & set(fields):
        raise PermissionDenied("Seule l'équipe Sicoval relie un conseiller à un compte.")


def _check_coordination(conseiller):
    coordinateur = conseiller.coordinateur
    if coordinateur is not None:
        if coordinateur.pk and coordinateur.pk == conseiller.pk:
            raise ValidationError({"coordinateur": "Un conseiller ne peut pas être son propre coordinateur."})
        if not coordinateur.est_coordinateur:
            raise ValidationError({"coordinateur": f"{coordinateur} n'est pas coordinateur."})


@transaction.atomic
def conseiller_create(*, by, structure=None, **fields):
    """Record a person. A référent records the conseillers of their structure: ``structure`` is then required and a
    recruitment record (``nouvelle``) links the person to it."""
    _check_conseiller_fields(fields, by)
    if not by.is_staff:
        if structure is None:
            raise PermissionDenied("Précisez la structure qui recrute ce conseiller.")
        _require_structure_editor(by, structure)
    conseiller = Conseiller(**fields)
    _check_coordination(conseiller)
    _save(conseiller, by)
    if structure is not None:
        _save(MiseEnRelation(conseiller=conseiller, structure=structure), by)
    return conseiller


@transaction.atomic
def conseiller_update(*, conseiller, by, **fields):
    _check_conseiller_fields(fields, by)
    conseiller = Conseiller.objects.select_for_update().get(pk=conseiller.pk)
    _require_conseiller_editor(by, conseiller)
    for name, value in fields.items():
        setattr(conseiller, name, value)
    _check_coordination(conseiller)
    if not conseiller.est_coordinateur and conseiller.coordonnes.exists():
        raise ValidationError(
            {"est_coordinateur": "Cette personne coordonne encore des conseillers : rattachez-les d'abord à un autre."}
        )
    return _save(conseiller, by, conflict="Ce compte est déjà relié à un autre conseiller.")


@transaction.atomic
def mise_en_relation_create(*, conseiller, structure, by):
    """Open a recruitment record between a candidate and a structure (status ``nouvelle``)."""
    _require_structure_editor(by, structure)
    if MiseEnRelation.objects.filter(conseiller=conseiller, structure=structure).exists():
        raise ValidationError("Cette candidature existe déjà pour cette structure.", code="duplicate")
    return _save(
        MiseEnRelation(conseiller=conseiller, structure=structure),
        by,
        conflict="Cette candidature existe déjà pour cette structure.",
    )


@transaction.atomic
def mise_en_relation_transition(*, mise_en_relation, statut, date=None, by):
    """Move a recruitment record along the national workflow. Hiring (entering a status that holds a post) is
    refused when the structure's hired people would exceed its granted posts; the structure's row is locked so that
    two concurrent hires cannot both pass the count."""
    _require_structure_editor(by, mise_en_relation.structure)
    structure = Structure.objects.select_for_update().get(pk=mise_en_relation.structure_id)
    mer = MiseEnRelation.objects.select_for_update().get(pk=mise_en_relation.pk)
    current = StatutMiseEnRelation(mer.statut)
    try:
        target = StatutMiseEnRelation(statut)
    except ValueError:
        raise ValidationError({"statut": "Statut de mise en relation inconnu."}) from None
    if target not in MISE_EN_RELATION_TRANSITIONS[current]:
        raise ValidationError(
            f"Passage impossible du statut « {current.label} » à « {target.label} ».", code="invalid_transition"
        )
    if target in STATUTS_RECRUTES and current not in STATUTS_RECRUTES:
        hired, granted = _hired_count(structure), _granted_count(structure)
        if hired + 1 > granted:
            raise ValidationError(
                f"{structure} a déjà {hired} personne(s) recrutée(s) pour {granted} poste(s) attribué(s) : "
                "un recrutement de plus dépasserait ses postes.",
                code="hired_exceeds_granted",
            )
    date = date or timezone.localdate()
    if target == StatutMiseEnRelation.RECRUTEE:
        mer.date_recrutement = date
    elif target == StatutMiseEnRelation.NOUVELLE_RUPTURE:
        mer.date_rupture = date
    elif current == StatutMiseEnRelation.NOUVELLE_RUPTURE and target == StatutMiseEnRelation.FINALISEE:
        mer.date_rupture = None  # the rupture was withdrawn
    mer.statut = target
    return _save(mer, by)


# --- Contracts ---------------------------------------------------------------------------------------------------
CONTRAT_FIELDS = {"type", "date_debut", "date_fin", "salaire_brut_mensuel", "cout_employeur_mensuel", "temps_plein"}


def _require_poste_editor(by, poste):
    _require_structure_editor(
        by, poste.structure, "Vous ne pouvez enregistrer des contrats que sur les postes de votre structure."
    )


def _validate_contrat(contrat):
    """Field checks, then the contract rules with one clear French message per field."""
    errors = {}
    try:
        contrat.clean_fields()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    salaire, cout = contrat.salaire_brut_mensuel, contrat.cout_employeur_mensuel
    if isinstance(salaire, Decimal) and salaire < 0:
        errors["salaire_brut_mensuel"] = ["Le salaire brut ne peut pas être négatif."]
    elif isinstance(salaire, Decimal) and isinstance(cout, Decimal) and cout < salaire:
        errors["cout_employeur_mensuel"] = [
            "Le coût employeur comprend le salaire brut : il ne peut pas lui être inférieur."
        ]
    if "type" not in errors and "date_fin" not in errors:
        if contrat.type == TypeContrat.CDI and contrat.date_fin:
            errors["date_fin"] = ["Un CDI n'a pas de date de fin."]
        elif contrat.type != TypeContrat.CDI and not contrat.date_fin:
            label = TypeContrat(contrat.type).label
            errors["date_fin"] = [f"Un contrat « {label} » doit avoir une date de fin."]
        elif contrat.date_fin and contrat.date_debut and contrat.date_fin <= contrat.date_debut:
            errors["date_fin"] = ["La fin du contrat doit suivre son début."]
    if errors:
        raise ValidationError(errors)
    poste = contrat.poste
    if contrat.date_debut < poste.date_attribution:
        raise ValidationError({"date_debut": f"Le poste n'est attribué que depuis le {_fmt(poste.date_attribution)}."})
    if poste.date_rendu and contrat.date_debut >= poste.date_rendu:
        raise ValidationError({"date_debut": f"Le poste est rendu depuis le {_fmt(poste.date_rendu)}."})


def _check_no_overlap(contrat):
    """A person never holds two overlapping contracts on one post. End days are worked days (a contract ending on
    the 31st and the next starting on the 1st do not overlap); an open-ended contract runs forever. The caller
    holds the post's row lock, so two concurrent contracts cannot both pass."""
    start, end = contrat.date_debut, contrat.date_fin_effective
    others = Contrat.objects.filter(conseiller=contrat.conseiller_id, poste=contrat.poste_id).exclude(pk=contrat.pk)
    for other in others:
        other_end = other.date_fin_effective
        if (other_end is None or start <= other_end) and (end is None or other.date_debut <= end):
            until = f"au {_fmt(other_end)}" if other_end else "sans date de fin"
            raise ValidationError(
                f"{contrat.conseiller} a déjà un contrat sur ce poste du {_fmt(other.date_debut)} {until} : "
                "deux contrats d'une même personne sur un poste ne peuvent pas se chevaucher.",
                code="overlap",
            )


def contrat_check(contrat):
    """Every contract rule on an unsaved or changed contract (also used by the admin form)."""
    _validate_contrat(contrat)
    if contrat.date_rupture and not _within(contrat, contrat.date_rupture):
        raise ValidationError(
            {"date_fin": f"Ce contrat a été rompu le {_fmt(contrat.date_rupture)} : ses dates doivent l'encadrer."}
        )
    _check_no_overlap(contrat)


@transaction.atomic
def contrat_create(
    *,
    conseiller,
    poste,
    type,
    date_debut,
    date_fin=None,
    salaire_brut_mensuel,
    cout_employeur_mensuel,
    temps_plein=True,
    by,
):
    """Record a contract of ``conseiller`` on ``poste`` (the post's host structure is the employer)."""
    poste = _lock_poste(poste)
    _require_poste_editor(by, poste)
    contrat = Contrat(
        conseiller=conseiller,
        poste=poste,
        type=type,
        date_debut=date_debut,
        date_fin=date_fin,
        salaire_brut_mensuel=salaire_brut_mensuel,
        cout_employeur_mensuel=cout_employeur_mensuel,
        temps_plein=temps_plein,
    )
    contrat_check(contrat)
    return _save(contrat, by)


@transaction.atomic
def contrat_update(*, contrat, by, **fields):
    """Correct a contract's type, dates or pay; ruptures go through ``contrat_rupture``."""
    unknown = set(fields) - CONTRAT_FIELDS
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {', '.join(sorted(unknown))}")
    poste = _lock_poste(contrat.poste)
    contrat = Contrat.objects.select_for_update().get(pk=contrat.pk)
    contrat.poste = poste
    _require_poste_editor(by, poste)
    for name, value in fields.items():
        setattr(contrat, name, value)
    contrat_check(contrat)
    return _save(contrat, by)


def _within(contrat, date):
    return contrat.date_debut <= date and (contrat.date_fin is None or date <= contrat.date_fin)


@transaction.atomic
def contrat_rupture(*, contrat, date, motif, by):
    """End a contract early on ``date`` with a reason from the national list."""
    poste = _lock_poste(contrat.poste)
    contrat = Contrat.objects.select_for_update().get(pk=contrat.pk)
    _require_poste_editor(by, poste)
    if contrat.date_rupture:
        raise ValidationError(f"Ce contrat est déjà rompu (le {_fmt(contrat.date_rupture)}).", code="already_ended")
    if motif not in choices.MotifRupture.values:
        raise ValidationError({"motif_rupture": "Choisissez un motif de rupture de la liste nationale."})
    if date is None or not _within(contrat, date):
        until = f"au {_fmt(contrat.date_fin)}" if contrat.date_fin else "sans date de fin"
        raise ValidationError(
            {"date_rupture": f"La rupture doit tomber pendant le contrat (du {_fmt(contrat.date_debut)} {until})."}
        )
    contrat.date_rupture = date
    contrat.motif_rupture = motif
    return _save(contrat, by)


# --- Training ----------------------------------------------------------------------------------------------------
# The titre "Médiateur numérique" replaced "Responsable d'espace de médiation numérique" on this day.
TITRE_MN_SINCE = datetime.date(2025, 7, 13)


def _validate_formation(formation):
    errors = {}
    initiale = formation.type == choices.TypeFormation.INITIALE
    if formation.heures is not None and formation.heures < 1:
        errors["heures"] = ["Une formation dure au moins une heure."]
    elif not initiale and formation.heures is None:
        errors["heures"] = ["Indiquez la durée du module en heures."]
    allowed = [h for h, _label in choices.PARCOURS_HEURES]
    if formation.parcours_heures is not None and formation.parcours_heures not in allowed:
        errors["parcours_heures"] = [f"Le parcours dure {', '.join(map(str, allowed[:-1]))} ou {allowed[-1]} heures."]
    has_certification = formation.parcours_heures or formation.certification or formation.titre
    if not initiale and (has_certification or formation.date_certification or formation.pix):
        errors["type"] = ["Parcours, certification, titre et PIX concernent la seule formation initiale."]
    if (
        formation.titre == choices.Titre.MN
        and formation.date_certification
        and formation.date_certification < TITRE_MN_SINCE
    ):
        errors["titre"] = [f"Le titre « Médiateur numérique » n'existe que depuis le {_fmt(TITRE_MN_SINCE)}."]
    if formation.date_fin and formation.date_debut and formation.date_fin < formation.date_debut:
        errors["date_fin"] = ["La fin de la formation ne peut précéder son début."]
    if errors:
        raise ValidationError(errors)


def formation_check(formation):
    """Every training rule on an unsaved or changed row (also used by the admin form)."""
    _validate_formation(formation)
    initiales = Formation.objects.filter(conseiller=formation.conseiller_id, type=choices.TypeFormation.INITIALE)
    if formation.type == choices.TypeFormation.INITIALE and initiales.exclude(pk=formation.pk).exists():
        raise ValidationError({"type": f"{formation.conseiller} a déjà une certification initiale enregistrée."})


@transaction.atomic
def formation_add(
    *,
    conseiller,
    type,
    intitule,
    date_debut,
    date_fin=None,
    heures=None,
    parcours_heures=None,
    certification="",
    titre="",
    date_certification=None,
    pix=False,
    by,
):
    """Record the initial certification (once per person) or a continuing-training module."""
    conseiller = Conseiller.objects.select_for_update().get(pk=conseiller.pk)
    _require_conseiller_editor(by, conseiller)
    formation = Formation(
        conseiller=conseiller,
        type=type,
        intitule=intitule,
        date_debut=date_debut,
        date_fin=date_fin,
        heures=heures,
        parcours_heures=parcours_heures,
        certification=certification,
        titre=titre,
        date_certification=date_certification,
        pix=pix,
    )
    formation_check(formation)
    return _save(formation, by, conflict=f"{conseiller} a déjà une certification initiale enregistrée.")


# --- Avenants ----------------------------------------------------------------------------------------------------
PENDING_AVENANT = "Cette structure a déjà une demande d'avenant en cours."


@transaction.atomic
def avenant_request(*, structure, type, typologie, nombre_postes, date_demande, motif="", by):
    """Ask to add posts (not in phase 1) or return some (no more than the structure's non-returned posts of that
    typology). One pending request per structure: the structure's row is locked, and a constraint backs it."""
    _require_structure_editor(by, structure, "Vous ne pouvez demander un avenant que pour votre structure.")
    structure = Structure.objects.select_for_update().get(pk=structure.pk)
    if Avenant.objects.filter(structure=structure, statut=choices.StatutAvenant.EN_COURS).exists():
        raise ValidationError(PENDING_AVENANT, code="pending")
    if nombre_postes is None or nombre_postes < 1:
        raise ValidationError({"nombre_postes": "Un avenant porte sur au moins un poste."})
    if type == choices.TypeAvenant.AJOUT and structure.phase == 1:
        raise ValidationError(
            {"type": "Une structure de la phase 1 ne peut pas demander d'ajout de postes."}, code="phase_1"
        )
    if type == choices.TypeAvenant.RETRAIT:
        held = Poste.objects.filter(structure=structure, typologie=typologie).exclude(etat=EtatPoste.RENDU).count()
        if nombre_postes > held:
            label = choices.Typologie(typologie).label.lower()
            raise ValidationError(
                {
                    "nombre_postes": f"La structure n'a que {held} poste(s) de {label} non rendu(s) : "
                    f"elle ne peut pas en retirer {nombre_postes}."
                },
                code="too_many",
            )
    avenant = Avenant(
        structure=structure,
        type=type,
        typologie=typologie,
        nombre_postes=nombre_postes,
        date_demande=date_demande,
        motif=motif,
    )
    return _save(avenant, by, conflict=PENDING_AVENANT)


@transaction.atomic
def avenant_decide(*, avenant, statut, date, by):
    """Validate or refuse a pending request (Sicoval staff). Posts themselves change through the post services."""
    _require_staff(by, "tranche les demandes d'avenant")
    avenant = Avenant.objects.select_for_update().get(pk=avenant.pk)
    if avenant.statut != choices.StatutAvenant.EN_COURS:
        raise ValidationError("Cette demande a déjà été tranchée.", code="decided")
    if statut not in {choices.StatutAvenant.VALIDEE, choices.StatutAvenant.REFUSEE}:
        raise ValidationError({"statut": "Une demande se valide ou se refuse."})
    if date is None or date < avenant.date_demande:
        raise ValidationError({"date_decision": "La décision ne peut pas précéder la demande."})
    avenant.statut = statut
    avenant.date_decision = date
    return _save(avenant, by)
