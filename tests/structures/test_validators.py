"""Identifiers of host structures: SIRET (14 digits, Luhn-checked) and RNA (W + 9 digits)."""

import pytest
from django.core.exceptions import ValidationError
from stdnum.fr import siret as stdnum_siret

from structures.validators import validate_horaires, validate_rna, validate_siret

# SIREN 243100633 is the Sicoval's; NIC 00011 makes a number whose Luhn keys (SIREN and SIRET) are both right.
SICOVAL_SIRET = "24310063300011"
# The same number with its last digit changed: 14 digits, wrong check key.
SICOVAL_SIRET_BAD_KEY = "24310063300012"


def test_the_literals_used_here_are_what_stdnum_says():
    assert stdnum_siret.is_valid(SICOVAL_SIRET)
    assert not stdnum_siret.is_valid(SICOVAL_SIRET_BAD_KEY)


def test_valid_siret_is_accepted():
    validate_siret(SICOVAL_SIRET)


def test_empty_siret_is_left_to_the_required_check():
    validate_siret("")
    validate_siret(None)


@pytest.mark.parametrize(
    "value",
    [
        "2431006330001",  # 13 digits
        "243100633000111",  # 15 digits
        "243 100 633 00011",  # spaces
        "2431006330001A",  # a letter
        "24310063300011\n",  # trailing newline
    ],
)
def test_siret_must_be_exactly_14_digits(value):
    with pytest.raises(ValidationError) as error:
        validate_siret(value)
    assert error.value.code == "siret_format"
    assert "14 chiffres" in error.value.messages[0]


def test_siret_with_wrong_luhn_key_is_refused_with_a_french_message():
    with pytest.raises(ValidationError) as error:
        validate_siret(SICOVAL_SIRET_BAD_KEY)
    assert error.value.code == "siret_checksum"
    assert "clé de contrôle" in error.value.messages[0]


@pytest.mark.parametrize("value", ["W313000123", "W000000000"])
def test_valid_rna_is_accepted(value):
    validate_rna(value)


@pytest.mark.parametrize(
    "value",
    ["313000123", "W31300012", "W3130001234", "w313000123", "X313000123", "W31300012A", "W 313000123"],
)
def test_rna_must_be_w_and_nine_digits(value):
    with pytest.raises(ValidationError) as error:
        validate_rna(value)
    assert error.value.code == "rna"
    assert "W suivi de 9 chiffres" in error.value.messages[0]


def test_opening_hours_validator_turns_parse_errors_into_french_validation_errors():
    validate_horaires("Mo-Fr 09:00-12:00")
    with pytest.raises(ValidationError) as error:
        validate_horaires("Fr-Mo 09:00-12:00")
    assert error.value.code == "horaires"
    assert "à l'envers" in error.value.messages[0]
