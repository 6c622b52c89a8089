"""Server-side SVG charts: accessible names, escaped labels, values, empty data and zero values, and the template
filters that format figures in French."""

import re

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeString

from sicoval_numerique import charts
from sicoval_numerique.templatetags.charts import duree, nombre, pourcent

DRAWERS = [charts.horizontal_bar_chart, charts.vertical_bar_chart]


def bar_widths(svg):
    return [float(w) for w in re.findall(r'<rect x="[^"]*" y="[^"]*" width="([^"]+)"', svg)]


def bar_heights(svg):
    return [float(h) for h in re.findall(r'<rect [^>]*height="([^"]+)"', svg)]


@pytest.mark.parametrize("draw", DRAWERS)
def test_chart_is_an_image_named_by_its_title_and_description(draw):
    svg = draw([("Courriel", 3)], chart_id="graphique-test", title="Activités par thématique")
    assert isinstance(svg, SafeString)
    assert svg.startswith("<svg ")
    assert 'role="img"' in svg
    assert 'aria-labelledby="graphique-test-titre graphique-test-desc"' in svg
    assert '<title id="graphique-test-titre">Activités par thématique</title>' in svg
    assert re.search(r'<desc id="graphique-test-desc">[^<]*Courriel \(3\)', svg)
    assert re.search(r'viewBox="0 0 \d+ \d+"', svg)


@pytest.mark.parametrize("draw", DRAWERS)
def test_chart_escapes_labels_title_and_description(draw):
    svg = draw([("<a&b>", 2)], chart_id="g", title="Titre <b>gras</b>", desc='Résumé "cité" <i>')
    assert "<a&b>" not in svg
    assert "&lt;a&amp;b&gt;" in svg
    assert "Titre &lt;b&gt;gras&lt;/b&gt;" in svg
    assert "Résumé &quot;cité&quot; &lt;i&gt;" in svg


@pytest.mark.parametrize("draw", DRAWERS)
def test_chart_never_lets_a_label_open_an_element(draw):
    svg = draw([('<script>alert("x")</script>', 2)], chart_id="g", title="T")
    assert "<script" not in svg
    assert "&lt;script" in svg


@pytest.mark.parametrize("draw", DRAWERS)
def test_chart_has_no_inline_style_nor_script(draw):
    svg = draw([("A", 1), ("B", 2)], chart_id="g", title="T")
    assert "style=" not in svg
    assert "<script" not in svg
    assert "onload" not in svg


def test_horizontal_bars_are_proportional_and_values_written_in_french():
    svg = charts.horizontal_bar_chart([("Petit", 617), ("Grand", 1234)], chart_id="g", title="T")
    small, large = bar_widths(svg)
    assert large == pytest.approx(2 * small, rel=0.01)
    assert large == charts.WIDTH - 70  # room left for the value
    assert ">1\u00a0234</text>" in svg
    assert ">617</text>" in svg
    assert svg.index(">Petit<") < svg.index(">Grand<")


def test_vertical_bars_are_proportional_and_labels_may_have_two_lines():
    svg = charts.vertical_bar_chart([("janv.\n2024", 10), ("févr.", 5)], chart_id="g", title="T")
    tall, short = bar_heights(svg)
    assert tall == pytest.approx(2 * short)
    assert re.search(r"text-anchor=\"middle\">janv.</text>", svg)
    assert re.search(r"<text x=\"[^\"]+\" y=\"[^\"]+\" font-size=\"\d+\" fill=\"#1e1e1e\">2024</text>", svg)
    assert ">10</text>" in svg
    assert "chart-wide" not in svg


def test_vertical_chart_of_a_year_fits_the_phone_width():
    svg = charts.vertical_bar_chart([(f"m{i}", i) for i in range(12)], chart_id="g", title="T")
    assert "chart-wide" not in svg
    assert f'viewBox="0 0 {charts.WIDTH} ' in svg


def test_vertical_chart_of_many_months_widens_instead_of_shrinking():
    data = [(f"m{i}", i) for i in range(24)]
    svg = charts.vertical_bar_chart(data, chart_id="g", title="T")
    assert "chart-wide" in svg
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    assert width >= 24 * charts.MONTH_SLOT


@pytest.mark.parametrize("draw", DRAWERS)
def test_chart_of_no_data_says_so(draw):
    svg = draw([], chart_id="g", title="Vide")
    assert "Aucune donnée sur la période." in svg
    assert "<rect" not in svg
    assert '<desc id="g-desc">Aucune donnée sur la période.</desc>' in svg


@pytest.mark.parametrize("draw", DRAWERS)
def test_chart_of_only_zeros_draws_empty_bars_without_dividing_by_zero(draw):
    svg = draw([("A", 0), ("B", 0)], chart_id="g", title="Zéro")
    sizes = bar_widths(svg) if draw is charts.horizontal_bar_chart else bar_heights(svg)
    assert sizes == [0, 0]
    assert svg.count(">0</text>") == 2
    assert "Aucune donnée sur la période." in svg  # the description


@pytest.mark.parametrize("draw", DRAWERS)
def test_chart_refuses_an_unsafe_id_and_negative_values(draw):
    with pytest.raises(ValueError):
        draw([("A", 1)], chart_id='x" onload="alert(1)', title="T")
    with pytest.raises(ValueError):
        draw([("A", -1)], chart_id="g", title="T")


def test_long_labels_are_shortened_in_the_chart():
    label = "Une thématique au libellé vraiment très long qui ne tiendrait pas sur la ligne"
    svg = charts.horizontal_bar_chart([(label, 1)], chart_id="g", title="T")
    shown = re.search(r'fill="#1e1e1e">([^<]*…)</text>', svg).group(1)
    assert len(shown) <= charts.MAX_LABEL_CHARS
    assert label.startswith(shown[:-1])


def test_summary_names_the_highest_bar_and_the_total():
    svg = charts.horizontal_bar_chart([("A", 2), ("B", 5)], chart_id="g", title="T", unit="activités")
    assert "B (5 activités)" in svg
    assert "Total : 7 activités" in svg


def test_bar_chart_tag_renders_escaped_svg():
    template = Template(
        '{% load charts %}{% bar_chart data chart_id="graphique-x" title=title vertical=True %}'
        "{{ 1234|nombre }}|{{ 75|duree }}|{{ 0.4|pourcent }}"
    )
    html = template.render(Context({"data": [("<b>", 3)], "title": "Par mois"}))
    assert html.startswith("<svg ")
    assert "&lt;b&gt;" in html
    assert "1\u00a0234|1\u00a0h\u00a015\u00a0min|&lt;\u00a01\u00a0%" in html


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(0, "0\u00a0min"), (45, "45\u00a0min"), (120, "2\u00a0h"), (417, "6\u00a0h\u00a057\u00a0min"), (None, "")],
)
def test_duree_filter(minutes, text):
    assert duree(minutes) == text


def test_nombre_and_pourcent_filters():
    assert nombre(1234567) == "1\u00a0234\u00a0567"
    assert nombre(None) == ""
    assert pourcent(None) == "—"
    assert pourcent(0) == "0\u00a0%"
    assert pourcent(0.2) == "<\u00a01\u00a0%"
    assert pourcent(33.4) == "33\u00a0%"


def test_description_uses_the_spoken_label_and_french_singular():
    svg = charts.vertical_bar_chart(
        [("janv.\n2024", 1, "janvier 2024"), ("févr.", 0, "février 2024")],
        chart_id="g",
        title="T",
        unit="accompagnements",
    )
    assert "Valeur la plus élevée : janvier 2024 (1 accompagnement). Total : 1 accompagnement." in svg


def test_description_leaves_out_the_total_of_values_that_do_not_add_up():
    svg = charts.horizontal_bar_chart([("E-mail", 3), ("Santé", 2)], chart_id="g", title="T", total=False)
    assert "Total" not in svg
    assert "E-mail (3)" in svg
