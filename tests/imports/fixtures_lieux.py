"""A valid row of the national places standard, for the places' import tests."""

from structures import lieux_standard


def ligne_lieu(**values):
    """A valid row of the standard in Labège (every column, as text); override any column."""
    base = dict.fromkeys(lieux_standard.columns(), "")
    base.update(
        id="carto-1",
        pivot="00000000000000",
        nom="Tiers-lieu numérique",
        commune="Labège",
        code_postal="31670",
        code_insee="31254",
        adresse="3 rue de l'Ormeau",
        date_maj="2025-01-15",
        services="Aide aux démarches administratives|Maîtrise des outils numériques du quotidien",
        source="Cartographie nationale",
    )
    base.update(values)
    return base
