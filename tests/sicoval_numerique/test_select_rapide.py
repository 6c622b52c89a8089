"""``SelectRapide`` writes its options in Python: the markup means what ``forms.Select`` renders (same attributes,
same options in the same order, the same one selected), labels escaped; the dashboard's long lists use it."""

import datetime
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django import forms
from django.urls import reverse

from reporting.forms import TableauForm
from sicoval_numerique.forms import SelectRapide
from structures.models import Commune, Structure
from tests import factories

pytestmark = pytest.mark.django_db


class _Selects(HTMLParser):
    """Each ``<select>`` of a markup: its attributes and its options as (value, label, selected), markup escapes
    resolved; and every start tag met, in order."""

    def __init__(self):
        super().__init__()
        self.selects = []
        self.tags = []
        self._option = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "select":
            self.selects.append(SimpleNamespace(attrs=dict(attrs), options=[]))
        elif tag == "option":
            attrs = dict(attrs)
            self._option = [attrs.get("value"), "", "selected" in attrs]

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self.selects[-1].options.append(tuple(self._option))
            self._option = None


def parse_all(html):
    parser = _Selects()
    parser.feed(str(html))
    parser.close()
    return parser


def parse(html):
    """The one ``<select>`` of a widget's markup."""
    parser = parse_all(html)
    assert len(parser.selects) == 1, html
    select = parser.selects[0]
    select.tags = parser.tags
    return select


@pytest.fixture
def structures():
    """Three structures, not created in the order of their names."""
    return [factories.StructureFactory(nom=nom) for nom in ("Mairie de Labège", "CCAS d'Escalquens", "Zèbre")]


def _field(**kwargs):
    return forms.ModelChoiceField(
        queryset=Structure.objects.order_by("nom"),
        to_field_name="uuid",
        empty_label="Toutes les structures",
        required=False,
        **kwargs,
    )


def _both(field, name, value, attrs=None):
    """(SelectRapide's markup, forms.Select's markup) for the same choices, value and attrs."""
    rapide, reference = SelectRapide(), forms.Select()
    rapide.choices = reference.choices = field.choices
    return rapide.render(name, value, attrs=attrs), reference.render(name, value, attrs=attrs)


@pytest.mark.parametrize("chosen", ["none", "uuid", "unknown"])
def test_options_are_those_of_forms_select_in_the_same_order(structures, chosen):
    value = {"none": None, "uuid": str(structures[1].uuid), "unknown": "pas-une-structure"}[chosen]
    rapide, reference = _both(_field(), "structure", value)
    assert parse(rapide).options == parse(reference).options
    # The empty option first, then the structures by name.
    assert [label for _value, label, _selected in parse(rapide).options] == [
        "Toutes les structures",
        "CCAS d'Escalquens",
        "Mairie de Labège",
        "Zèbre",
    ]


def test_the_chosen_value_alone_is_selected(structures):
    chosen = structures[0]
    rapide, reference = _both(_field(), "structure", str(chosen.uuid))
    selected = [(value, label) for value, label, is_selected in parse(rapide).options if is_selected]
    assert selected == [(str(chosen.uuid), "Mairie de Labège")]
    assert selected == [(value, label) for value, label, is_selected in parse(reference).options if is_selected]


def test_a_value_given_as_a_primary_key_selects_like_forms_select(structures):
    """Without ``to_field_name`` the values are primary keys (integers): the chosen one matches as text."""
    field = forms.ModelChoiceField(queryset=Structure.objects.order_by("nom"), empty_label="Toutes les structures")
    rapide, reference = _both(field, "structure", structures[2].pk)
    assert parse(rapide).options == parse(reference).options
    assert [value for value, _label, is_selected in parse(rapide).options if is_selected] == [str(structures[2].pk)]


def test_the_empty_option_is_first_and_selected_without_a_value(structures):
    rapide, reference = _both(_field(), "structure", None)
    assert parse(rapide).options[0] == ("", "Toutes les structures", True)
    assert parse(rapide).options[0] == parse(reference).options[0]
    assert not any(is_selected for _value, _label, is_selected in parse(rapide).options[1:])


def test_select_attributes_are_those_of_forms_select(structures):
    attrs = {"id": "id_structure", "aria-describedby": "id_structure_helptext", "required": True, "class": "fr-select"}
    rapide, reference = _both(_field(), "structure", None, attrs=attrs)
    assert parse(rapide).attrs == parse(reference).attrs
    assert parse(rapide).attrs == {
        "name": "structure",
        "id": "id_structure",
        "aria-describedby": "id_structure_helptext",
        "required": None,  # a boolean attribute, written without a value
        "class": "fr-select",
    }


def test_a_false_boolean_attribute_is_left_out_like_forms_select(structures):
    rapide, reference = _both(_field(), "structure", None, attrs={"id": "id_structure", "required": False})
    assert "required" not in parse(rapide).attrs
    assert parse(rapide).attrs == parse(reference).attrs


def test_a_bound_field_renders_like_forms_select(structures):
    """Through a form: the attributes the bound field adds (id, required, aria-describedby of the help text,
    aria-invalid of an error) and the value it gives are those forms.Select gets."""

    def form_class(widget):
        return type(
            "F",
            (forms.Form,),
            {
                "structure": forms.ModelChoiceField(
                    queryset=Structure.objects.order_by("nom"),
                    to_field_name="uuid",
                    help_text="La structure du conseiller.",
                    widget=widget,
                )
            },
        )

    for data in ({"structure": str(structures[2].uuid)}, {"structure": "inconnue"}, {}):
        rapide = parse(form_class(SelectRapide)(data)["structure"])
        reference = parse(form_class(forms.Select)(data)["structure"])
        assert rapide.attrs == reference.attrs, data
        assert rapide.options == reference.options, data
    assert {"required", "aria-describedby", "aria-invalid"} <= set(rapide.attrs)


def test_labels_are_escaped():
    widget = SelectRapide(choices=[("", "Toutes"), ("a&b", "<b>&"), ("x", "Saint-Orens & Labège")])
    html = widget.render("structure", "a&b")
    assert "&lt;b&gt;&amp;" in html and "<b>" not in html
    assert 'value="a&amp;b" selected' in html
    parsed = parse(html)
    assert parsed.tags == ["select", "option", "option", "option"]  # no <b> element injected
    assert parsed.options == [("", "Toutes", False), ("a&b", "<b>&", True), ("x", "Saint-Orens & Labège", False)]
    assert parsed.options == parse(forms.Select(choices=widget.choices).render("structure", "a&b")).options


def test_dashboard_form_lists_structures_and_communes_with_select_rapide_and_selects_the_chosen_structure(
    structures,
):
    choisie = structures[0]
    form = TableauForm({"du": "2024-01", "au": "2024-06", "structure": str(choisie.uuid)}, structures=Structure.objects)
    assert type(form.fields["structure"].widget) is SelectRapide
    assert type(form.fields["commune"].widget) is SelectRapide
    assert form.is_valid(), form.errors

    structure = parse(form["structure"])
    assert structure.attrs["name"] == "structure" and structure.attrs["id"] == "id_structure"
    assert [option for option in structure.options if option[2]] == [(str(choisie.uuid), "Mairie de Labège", True)]
    assert [label for _value, label, _selected in structure.options] == [
        "Toutes les structures",
        "CCAS d'Escalquens",
        "Mairie de Labège",
        "Zèbre",
    ]
    commune = parse(form["commune"])
    assert commune.options[0] == ("", "Toutes les communes", True)
    assert [value for value, _label, _selected in commune.options[1:]] == list(
        Commune.objects.order_by("nom").values_list("code_insee", flat=True)
    )


def test_dashboard_page_shows_the_chosen_structure_selected(structures, staff_client):
    choisie = structures[2]
    mois = f"{datetime.date.today():%Y-%m}"
    response = staff_client.get(reverse("reporting:tableau"), {"du": mois, "au": mois, "structure": choisie.uuid})
    assert response.status_code == 200
    (select,) = [
        select for select in parse_all(response.content.decode()).selects if select.attrs["name"] == "structure"
    ]
    assert select.attrs["id"] == "id_structure"
    assert [option for option in select.options if option[2]] == [(str(choisie.uuid), "Zèbre", True)]
