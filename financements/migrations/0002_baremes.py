"""The policy amounts of the programme (shared DOMAIN.md, "Funding"), as rows staff can correct or extend in the
admin when the policy changes again. Sources: the State's circulars for the conseiller numérique programme (V1 2021,
renewal V2 2023)."""

from decimal import Decimal

from django.db import migrations

BAREMES = [
    ("v1-public", "V1 — structure publique (24 mois)", "V1", "public", None, "50000", "0", 24, "2021-01-01"),
    ("v1-public-outre-mer-70000", "V1 — structure publique d'outre-mer (70 000 €)", "V1", "public", None, "70000", "0", 24, "2021-01-01"),
    ("v1-public-outre-mer-67500", "V1 — structure publique d'outre-mer (67 500 €)", "V1", "public", None, "67500", "0", 24, "2021-01-01"),
    ("v1-prive", "V1 — structure privée (18 mois)", "V1", "prive", None, "32000", "0", 18, "2021-01-01"),
    ("v2-public-annee-1", "V2 — structure publique, 1re année", "V2", "public", 1, "17500", "2500", 12, "2023-01-01"),
    ("v2-public-annee-2", "V2 — structure publique, 2e année", "V2", "public", 2, "12500", "5000", 12, "2023-01-01"),
    ("v2-public-annee-3", "V2 — structure publique, 3e année", "V2", "public", 3, "12500", "0", 12, "2023-01-01"),
    ("v2-prive-annee-1", "V2 — structure privée, 1re année", "V2", "prive", 1, "20000", "0", 12, "2023-01-01"),
    ("v2-prive-annee-2", "V2 — structure privée, 2e année", "V2", "prive", 2, "14000", "0", 12, "2023-01-01"),
    ("v2-prive-annee-3", "V2 — structure privée, 3e année", "V2", "prive", 3, "10000", "0", 12, "2023-01-01"),
]
SOURCE = "Programme Conseiller numérique (ANCT) — montants de référence"


def load(apps, schema_editor):
    Bareme = apps.get_model("financements", "Bareme")
    for code, libelle, enveloppe, secteur, annee, montant, bonus, duree, debut in BAREMES:
        Bareme.objects.update_or_create(
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
                "source": SOURCE,
            },
        )


def unload(apps, schema_editor):
    apps.get_model("financements", "Bareme").objects.filter(code__in=[row[0] for row in BAREMES]).delete()


class Migration(migrations.Migration):
    dependencies = [("financements", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
