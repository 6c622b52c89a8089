"""Demo of posts, people and money on the Sicoval: the 4 posts of the Sicoval's share (one coordinator, one moved to
Ramonville-Saint-Agne) and two of the Département's posts on the territory (the Castanet CCAS, an association),
funded by the State in V1 then V2 with their instalments, co-funded by the Département, with one rupture that left a
post vacant for five months, a contract ending within 60 days, training done, due and late, one repayment and one
overdue instalment.

Everything goes through the services, as a coordinator would enter it, dated in the past relative to the day the
demo is loaded (the services refuse post changes in the future). Loaded once: a territory that already has posts is
left as it is.
"""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from conseillers import services as postes
from conseillers.choices import Certification, MotifRupture, StatutMiseEnRelation, Titre, TypeContrat
from conseillers.models import Poste
from financements import services as finances
from financements.choices import Enveloppe, MotifAvoir, TypeFinanceur
from financements.models import Financeur

D = datetime.date
M = StatutMiseEnRelation


def _hire(conseiller, structure, date, by):
    mer = postes.mise_en_relation_create(conseiller=conseiller, structure=structure, by=by)
    for statut in (M.INTERESSEE, M.RECRUTEE, M.FINALISEE):
        mer = postes.mise_en_relation_transition(mise_en_relation=mer, statut=statut, date=date, by=by)
    return mer


def _person(by, prenom, nom, *, user=None, coordinateur=None, est_coordinateur=False):
    email = user.email if user else f"{prenom}.{nom}@sicoval-numerique.example".lower().replace(" ", "-")
    return postes.conseiller_create(
        by=by,
        prenom=prenom,
        nom=nom,
        email=email,
        user=user,
        est_coordinateur=est_coordinateur,
        coordinateur=coordinateur,
    )


def _contract(by, conseiller, poste, type, start, end, salaire):
    salaire = Decimal(salaire)
    return postes.contrat_create(
        by=by,
        conseiller=conseiller,
        poste=poste,
        type=type,
        date_debut=start,
        date_fin=end,
        salaire_brut_mensuel=salaire,
        cout_employeur_mensuel=(salaire * Decimal("1.45")).quantize(Decimal("0.01")),
    )


def _certify(by, conseiller, date, heures):
    postes.formation_add(
        by=by,
        conseiller=conseiller,
        type="initiale",
        intitule="Titre professionnel Responsable d'espace de médiation numérique",
        date_debut=date,
        date_fin=date + datetime.timedelta(days=60),
        parcours_heures=heures,
        certification=Certification.CCP1,
        titre=Titre.REMN,
        date_certification=date + datetime.timedelta(days=60),
        pix=True,
    )


def _module(by, conseiller, date, intitule):
    postes.formation_add(by=by, conseiller=conseiller, type="continue", intitule=intitule, date_debut=date, heures=14)


def _pay(by, ligne, payments):
    """Record the instalments of a line that are due by today, except the numbers in ``unpaid``."""
    today = timezone.localdate()
    for versement in ligne.versements.order_by("numero"):
        if versement.numero in payments.get("unpaid", ()) or versement.date_prevue > today:
            continue
        paid_on = min(versement.date_prevue + datetime.timedelta(days=20), today)
        finances.versement_record(
            versement=versement, date_versement=paid_on, montant_verse=versement.montant_prevu, by=by
        )


def _convention(by, financeur, structure, enveloppe, start, months, signed, phase=1):
    end = start + relativedelta(months=months) - datetime.timedelta(days=1)
    convention = finances.convention_create(
        by=by,
        financeur=financeur,
        structure=structure,
        enveloppe=enveloppe,
        phase=phase,
        reference=f"{enveloppe}-{structure.commune.code_insee}-{start.year}",
        date_debut=start,
        date_fin=end,
        date_debut_financement=start,
        date_fin_financement=end,
    )
    return finances.convention_sign(convention=convention, date_signature=signed, by=by)


def load_postes_demo(*, structures, staff):
    """Posts, people, contracts, training and funding of the demo; returns the posts created (none the second time)."""
    if Poste.objects.exists():
        return []
    today = timezone.localdate()
    by = staff
    sicoval, ramonville = structures["sicoval"], structures["ramonville"]
    ccas, asso, departement = structures["ccas_castanet"], structures["asso"], structures["departement"]

    # --- posts of the Sicoval's share, then the Département's posts hosted on the territory
    def new_post(structure, typologie, phase, attributed):
        return postes.poste_create(
            structure=structure,
            typologie=typologie,
            phase=phase,
            date_attribution=attributed,
            coselec_date=attributed - datetime.timedelta(days=11),
            coselec_reference=f"COSELEC {attributed:%Y-%m}",
            by=by,
        )

    p_coordo = new_post(sicoval, "coordo", 1, D(2021, 3, 15))
    p_sicoval_1 = new_post(sicoval, "conum", 1, D(2021, 3, 15))
    p_ramonville = new_post(sicoval, "conum", 1, D(2021, 3, 15))
    p_sicoval_2 = new_post(sicoval, "conum", 1, D(2022, 9, 1))
    p_ccas = new_post(ccas, "conum", 1, D(2021, 4, 12))
    p_asso = new_post(asso, "conum", 2, D(2022, 2, 1))
    postes.poste_move(poste=p_ramonville, structure=ramonville, date=D(2023, 1, 1), by=by)

    # --- people, recruitment, contracts, assignments
    from accounts.models import User

    julien = _person(by, "Julien", "Roux", est_coordinateur=True)
    sarah = _person(by, "Sarah", "Martin", coordinateur=julien)
    ines_user = User.objects.filter(email="conseiller@sicoval-numerique.example").first()
    ines = _person(by, "Inès", "Conseillère", user=ines_user, coordinateur=julien)
    thomas = _person(by, "Thomas", "Petit", coordinateur=julien)
    nadia = _person(by, "Nadia", "Benali")
    lucas = _person(by, "Lucas", "Garcia")

    staffing = [
        (julien, p_coordo, sicoval, D(2021, 5, 3), [(TypeContrat.CDI, None, "2400")]),
        (
            sarah,
            p_sicoval_1,
            sicoval,
            D(2021, 6, 1),
            [
                (TypeContrat.CONTRAT_DE_PROJET_PUBLIC, D(2024, 5, 31), "2000"),
                (TypeContrat.CDD, today + datetime.timedelta(days=45), "2100"),
            ],
        ),
        (ines, p_ramonville, ramonville, D(2023, 1, 2), [(TypeContrat.CDD, D(2027, 1, 1), "1950")]),
        (thomas, p_sicoval_2, sicoval, D(2022, 10, 3), [(TypeContrat.PEC, D(2027, 10, 2), "1850")]),
        (nadia, p_ccas, ccas, D(2021, 5, 17), [(TypeContrat.CDD, D(2027, 5, 16), "1900")]),
        (lucas, p_asso, asso, D(2022, 3, 1), [(TypeContrat.CDD, D(2027, 2, 28), "1900")]),
    ]
    contracts = {}
    for conseiller, poste, structure, start, contrats in staffing:
        mer = _hire(conseiller, structure, start, by)
        postes.poste_assign(poste=poste, conseiller=conseiller, date=start, by=by)
        begin = start
        for type, end, salaire in contrats:
            contracts[conseiller.pk] = _contract(by, conseiller, poste, type, begin, end, salaire)
            begin = end + datetime.timedelta(days=1) if end else begin
        if conseiller is lucas:
            lucas_mer = mer

    # Lucas resigned five months ago: the association's post has been vacant since.
    rupture = today - relativedelta(months=5)
    postes.contrat_rupture(contrat=contracts[lucas.pk], date=rupture, motif=MotifRupture.DEMISSION, by=by)
    postes.poste_release(poste=p_asso, date=rupture, by=by)
    for statut in (M.NOUVELLE_RUPTURE, M.FINALISEE_RUPTURE):
        lucas_mer = postes.mise_en_relation_transition(mise_en_relation=lucas_mer, statut=statut, date=rupture, by=by)

    # --- training: initial certification for all; continuing modules done, due (Thomas) and late (Nadia, last year)
    for conseiller, _poste, _structure, start, _contrats in staffing:
        _certify(by, conseiller, start + datetime.timedelta(days=30), 280 if conseiller is julien else 105)
    this_year, last_year = today.year, today.year - 1
    for conseiller in (julien, sarah, ines, thomas):
        _module(by, conseiller, D(last_year, 3, 10), "Accompagner les démarches en ligne de santé")
    for conseiller in (julien, sarah, ines, nadia):
        _module(by, conseiller, D(this_year, 2, 5), "Cybersécurité : protéger les usagers")

    # --- funding: the State in V1 then V2, co-funding by the Département, one repayment, one overdue instalment
    etat = Financeur.objects.get_or_create(nom="État (ANCT)", defaults={"type": TypeFinanceur.ETAT})[0]
    cd31 = Financeur.objects.get_or_create(
        nom="Département de la Haute-Garonne", defaults={"type": TypeFinanceur.DEPARTEMENT, "structure": departement}
    )[0]

    v1 = _convention(by, etat, sicoval, Enveloppe.V1, D(2021, 4, 1), 24, D(2021, 4, 20))
    for poste in (p_coordo, p_sicoval_1, p_ramonville):
        ligne = finances.ligne_create(convention=v1, poste=poste, by=by)
        for numero, date in ((1, D(2021, 5, 15)), (2, D(2022, 5, 15))):
            finances.versement_plan(
                ligne=ligne, numero=numero, date_prevue=date, montant_prevu=ligne.montant_total / 2, by=by
            )
        _pay(by, ligne, {})
        if poste is p_ramonville:
            finances.avoir_record(
                ligne=ligne,
                date=D(2023, 6, 30),
                montant=Decimal("1250.00"),
                motif=MotifAvoir.NON_JUSTIFIE,
                commentaire="Frais de déplacement déclarés à tort dans le bilan.",
                by=by,
            )

    v2_lines = [
        (sicoval, (p_coordo, p_sicoval_1, p_sicoval_2), D(2023, 4, 1), {p_sicoval_2.pk: {"unpaid": {3}}}),
        (ramonville, (p_ramonville,), D(2023, 4, 1), {}),
        (ccas, (p_ccas,), D(2023, 5, 1), {}),
        (asso, (p_asso,), D(2023, 3, 1), {}),
    ]
    for structure, posts, start, unpaid in v2_lines:
        phase = 2 if structure is asso else 1
        convention = _convention(
            by, etat, structure, Enveloppe.V2, start, 36, start + datetime.timedelta(days=10), phase
        )
        for poste in posts:
            ligne = finances.ligne_create(convention=convention, poste=poste, by=by)
            finances.versements_plan_v2(ligne=ligne, by=by)
            _pay(by, ligne, unpaid.get(poste.pk, {}))

    cofinancement = _convention(by, cd31, ccas, Enveloppe.COFINANCEMENT, D(2024, 1, 1), 24, D(2023, 12, 15))
    ligne = finances.ligne_create(convention=cofinancement, poste=p_ccas, montant_base=Decimal("10000.00"), by=by)
    for numero, date in ((1, D(2024, 2, 1)), (2, D(2025, 2, 1))):
        finances.versement_plan(ligne=ligne, numero=numero, date_prevue=date, montant_prevu=Decimal("5000.00"), by=by)
    _pay(by, ligne, {})
    return [p_coordo, p_sicoval_1, p_ramonville, p_sicoval_2, p_ccas, p_asso]
