"""The policy amounts of the programme (shared DOMAIN.md, "Funding"), as ``Bareme`` rows that staff correct or extend
in the admin when the policy changes again. Loaded by the migration ``0002_baremes``; ``load_baremes`` loads the
missing ones again (the demo uses it), never overwriting a row staff have edited.

Source: the State's framework of the conseiller numérique programme (initial agreements V1 from 2021, renewals V2
from 2023).
"""

from decimal import Decimal

SOURCE = "Programme Conseiller numérique (ANCT) — montants de référence"

# code, label, envelope, sector, year, amount, QPV/ZRR bonus, months, valid from, overseas
BAREMES = [
    ("v1-public", "V1 — structure publique (24 mois)", "V1", "public", None, "50000", "0", 24, "2021-01-01", False),
    (
        "v1-public-outre-mer-70000",
        "V1 — structure publique d'outre-mer (70 000 €)",
        "V1",
        "public",
        None,
        "70000",
        "0",
        24,
        "2021-01-01",
        True,
    ),
    (
        "v1-public-outre-mer-67500",
        "V1 — structure publique d'outre-mer (67 500 €)",
        "V1",
        "public",
        None,
        "67500",
        "0",
        24,
        "2021-01-01",
        True,
    ),
    ("v1-prive", "V1 — structure privée (18 mois)", "V1", "prive", None, "32000", "0", 18, "2021-01-01", False),
    (
        "v2-public-annee-1",
        "V2 — structure publique, 1re année",
        "V2",
        "public",
        1,
        "17500",
        "2500",
        12,
        "2023-01-01",
        False,
    ),
    (
        "v2-public-annee-2",
        "V2 — structure publique, 2e année",
        "V2",
        "public",
        2,
        "12500",
        "5000",
        12,
        "2023-01-01",
        False,
    ),
    (
        "v2-public-annee-3",
        "V2 — structure publique, 3e année",
        "V2",
        "public",
        3,
        "12500",
        "0",
        12,
        "2023-01-01",
        False,
    ),
    ("v2-prive-annee-1", "V2 — structure privée, 1re année", "V2", "prive", 1, "20000", "0", 12, "2023-01-01", False),
    ("v2-prive-annee-2", "V2 — structure privée, 2e année", "V2", "prive", 2, "14000", "0", 12, "2023-01-01", False),
    ("v2-prive-annee-3", "V2 — structure privée, 3e année", "V2", "prive", 3, "10000", "0", 12, "2023-01-01", False),
]


def load_baremes(bareme_model=None):
    """Create the reference rows that are missing (by code); existing rows, maybe edited by staff, stay as they are.
    ``bareme_model`` is the historical model when called from a migration. Returns how many were created."""
    if bareme_model is None:
        from .models import Bareme as bareme_model
    created = 0
    for code, libelle, enveloppe, secteur, annee, montant, bonus, duree, debut, outre_mer in BAREMES:
        _, was_created = bareme_model.objects.get_or_create(
            code=code,
            defaults={
                "libelle": libelle,
                "enveloppe": enveloppe,
                "secteur": secteur,
                "annee": annee,
                "montant": Decimal(montant),
                "bonus_qpv_zrr": Decimal(bonus),
                "duree_mois": duree,
                "valide_du": debut,
                "outre_mer": outre_mer,
                "source": SOURCE,
            },
        )
        created += was_created
    return created
