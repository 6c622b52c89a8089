"""Opening hours in the OpenStreetMap syntax: what is accepted, and the plain French the public reads."""

import re

import pytest

from structures import horaires


def typo(text):
    """Expected French written with plain spaces, given the non-breaking spaces of French typography that keep
    « 18 h 30 » on one line."""
    return re.sub(r"h (\d)", "h\u00a0\\1", re.sub(r"(\d) h", "\\1\u00a0h", text))


def lines(*expected):
    return [typo(line) for line in expected]


def test_hours_never_break_inside():
    assert horaires.en_francais("Mo 14:00-18:30") == ["Lundi : de 14\u00a0h à 18\u00a0h\u00a030"]


def test_weekdays_with_two_spans_and_saturday_morning_in_plain_french():
    assert horaires.en_francais("Mo-Fr 09:00-12:00,14:00-18:30; Sa 09:00-12:00") == lines(
        "Du lundi au vendredi : de 9 h à 12 h et de 14 h à 18 h 30",
        "Samedi : de 9 h à 12 h",
    )


def test_parse_expands_day_ranges_and_keeps_spans():
    rules = horaires.parse("Mo-Fr 09:00-12:00,14:00-18:30; Sa 09:00-12:00")
    assert [rule.days for rule in rules] == [("Mo", "Tu", "We", "Th", "Fr"), ("Sa",)]
    assert rules[0].spans == (("09:00", "12:00"), ("14:00", "18:30"))
    assert rules[1].spans == (("09:00", "12:00"),)
    assert not rules[0].closed


def test_day_lists_are_joined_with_commas_and_et():
    assert horaires.en_francais("Mo,We,Fr 14:00-17:00") == lines("Lundi, mercredi et vendredi : de 14 h à 17 h")
    rules = horaires.parse("Mo,We,Fr 14:00-17:00")
    assert rules[0].days == ("Mo", "We", "Fr")


def test_list_mixing_a_range_and_a_single_day():
    assert horaires.en_francais("Mo-We,Sa 10:00-12:15") == lines("Du lundi au mercredi et samedi : de 10 h à 12 h 15")


def test_three_spans_on_one_day():
    assert horaires.en_francais("Tu 08:30-10:00,10:30-12:00,13:45-16:00") == lines(
        "Mardi : de 8 h 30 à 10 h, de 10 h 30 à 12 h et de 13 h 45 à 16 h"
    )


def test_off_is_read_as_closed():
    rules = horaires.parse("Mo-Sa 09:00-12:00; Su off")
    assert rules[1].closed
    assert rules[1].spans == ()
    assert horaires.en_francais("Mo-Sa 09:00-12:00; Su off") == lines(
        "Du lundi au samedi : de 9 h à 12 h",
        "Dimanche : fermé",
    )


def test_public_holidays_off():
    rules = horaires.parse("Mo-Fr 09:00-17:00; PH off")
    assert rules[1].days == ("PH",)
    assert rules[1].closed
    assert horaires.en_francais("Mo-Fr 09:00-17:00; PH off")[1] == "Jours fériés : fermé"


def test_round_the_clock():
    rules = horaires.parse("24/7")
    assert rules[0].days == tuple(horaires.DAYS)
    assert horaires.en_francais("24/7") == lines("Tous les jours : de 0 h à 24 h")


@pytest.mark.parametrize("value", ["", "   ", None])
def test_empty_hours_mean_no_rule(value):
    assert horaires.parse(value) == []
    assert horaires.en_francais(value) == []


def test_extra_spaces_and_trailing_semicolon_are_tolerated():
    assert horaires.en_francais("  Mo 09:00-12:00 ;  ") == lines("Lundi : de 9 h à 12 h")


def test_reversed_day_range_is_refused_in_french():
    with pytest.raises(horaires.HorairesError, match="Plage de jours à l'envers : « Fr-Mo »"):
        horaires.parse("Fr-Mo 09:00-12:00")


def test_single_day_range_is_refused():
    with pytest.raises(horaires.HorairesError, match="à l'envers"):
        horaires.parse("Mo-Mo 09:00-12:00")


def test_end_before_start_is_refused_in_french():
    with pytest.raises(horaires.HorairesError, match="L'heure de fin doit suivre l'heure de début : « 14:00-09:00 »"):
        horaires.parse("Mo 14:00-09:00")


def test_empty_time_span_is_refused():
    with pytest.raises(horaires.HorairesError, match="L'heure de fin doit suivre"):
        horaires.parse("Mo 09:00-09:00")


def test_public_holidays_cannot_be_a_range():
    with pytest.raises(horaires.HorairesError, match="jours fériés"):
        horaires.parse("PH-Mo off")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("n'importe quoi", "Jour non reconnu : « n'importe »"),
        ("du grand n'importe quoi", "Règle non reconnue"),
        ("Lu-Ve 09:00-12:00", "Jour non reconnu : « Lu-Ve »"),
        ("Mo 9h-12h", "Horaire non reconnu : « 9h-12h »"),
        ("Mo 25:00-26:00", "Horaire non reconnu"),
        ("Mo 09:60-10:00", "Horaire non reconnu"),
        ("Mo-Fr", "Règle non reconnue"),
        ("Mo 09:00-12:00 14:00-18:00", "Règle non reconnue"),
        ("Mo 09:00-12:00,", "Horaire non reconnu"),
    ],
)
def test_garbage_is_refused_with_a_french_message(value, message):
    with pytest.raises(horaires.HorairesError, match=message):
        horaires.parse(value)


def test_unparseable_hours_are_shown_as_written_rather_than_hidden():
    assert horaires.en_francais("Mo 9h-12h") == ["Mo 9h-12h"]
