"""``docs/security.md`` (OWASP ASVS 5.0, niveau 2) stays true: what it cites exists.

The document has one table row per ASVS 5.0 requirement of level 1 or 2, ``| ID | exigence | statut | preuve |``.
These tests read it as text (no database, no Django request) and check that:

- every L1 and L2 requirement of ASVS 5.0 has exactly one row (``EXPECTED`` below, from the standard's CSV), and no
  row names a requirement that is not L1/L2;
- every row has one of the three statuses and a non-empty evidence; a « Partielle » row says what is missing
  (« Manque : … »); the « Bilan » table counts the rows of each status;
- every cited pytest node id ``tests/….py::test_name`` (or ``tests/….py::Class::test_name``, a parametrization suffix
  ``[…]`` stripped) names a function that the file defines (read with ``ast``, nothing imported);
- every cited setting ``settings/<file>.py: NAME`` (with its ``["KEY"]`` subscripts) is written in that settings file;
- every cited symbol of the code ``app/module.py::Name`` (or ``::Class.method``) is defined in that file, and every
  cited path of the repository (in backquotes) exists.

A test renamed or removed, a setting dropped, a class moved: this module fails and names the row to update."""

import ast
import functools
import re
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parent.parent
DOC = ROOT_DIR / "docs" / "security.md"
SETTINGS_DIR = ROOT_DIR / "sicoval_numerique" / "settings"

STATUSES = {"Satisfaite", "Partielle", "Sans objet"}
MISSING_MARK = "Manque :"

# The L1 and L2 requirements of ASVS 5.0.0 (OWASP_Application_Security_Verification_Standard_5.0.0_en.csv): for each
# section, how many of its requirements, numbered from 1, are of level 1 or 2 (the L3 ones all come after them).
# Sections without any (V3.1, V3.6, V6.7, V11.7, V15.4) are left out.
EXPECTED_SECTIONS = {
    "V1.1": 2, "V1.2": 9, "V1.3": 11, "V1.4": 3, "V1.5": 2,
    "V2.1": 3, "V2.2": 3, "V2.3": 4, "V2.4": 1,
    "V3.2": 2, "V3.3": 4, "V3.4": 6, "V3.5": 5, "V3.7": 2,
    "V4.1": 3, "V4.2": 1, "V4.3": 2, "V4.4": 4,
    "V5.1": 1, "V5.2": 3, "V5.3": 2, "V5.4": 3,
    "V6.1": 3, "V6.2": 12, "V6.3": 4, "V6.4": 4, "V6.5": 5, "V6.6": 3, "V6.8": 4,
    "V7.1": 3, "V7.2": 4, "V7.3": 2, "V7.4": 5, "V7.5": 2, "V7.6": 2,
    "V8.1": 2, "V8.2": 3, "V8.3": 1, "V8.4": 1,
    "V9.1": 3, "V9.2": 4,
    "V10.1": 2, "V10.2": 2, "V10.3": 4, "V10.4": 11, "V10.5": 5, "V10.6": 2, "V10.7": 3,
    "V11.1": 2, "V11.2": 3, "V11.3": 3, "V11.4": 4, "V11.5": 1, "V11.6": 1,
    "V12.1": 3, "V12.2": 2, "V12.3": 4,
    "V13.1": 1, "V13.2": 5, "V13.3": 2, "V13.4": 5,
    "V14.1": 2, "V14.2": 4, "V14.3": 3,
    "V15.1": 3, "V15.2": 3, "V15.3": 7,
    "V16.1": 1, "V16.2": 5, "V16.3": 4, "V16.4": 3, "V16.5": 3,
    "V17.1": 1, "V17.2": 4, "V17.3": 2,
}  # fmt: skip
EXPECTED = {f"{section}.{number}" for section, count in EXPECTED_SECTIONS.items() for number in range(1, count + 1)}

ROW_RE = re.compile(r"^\|\s*(V\d+\.\d+\.\d+)\s*\|")
# tests/path/test_x.py::test_name, tests/path/test_x.py::Class::test_name, optionally [parametrization].
NODE_RE = re.compile(r"(tests/[\w/]+\.py)::([A-Za-z_]\w*)(?:::([A-Za-z_]\w*))?(\[[^\]]*\])?")
# settings/base.py: NAME, optionally followed by ["KEY"] subscripts.
SETTING_RE = re.compile(r"settings/(\w+)\.py: ([A-Z][A-Z0-9_]*)((?:\[\"[^\"]+\"\])*)")
# app/module.py::Name or app/module.py::Class.method, outside tests/.
CODE_RE = re.compile(r"(?<![\w/.])((?!tests/)[a-z_][\w]*(?:/[\w]+)*\.py)::([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)")
# A path of the repository written alone in backquotes: `docs/registre-traitements.md`, `Makefile`, `.ci/run`.
PATH_RE = re.compile(r"^(?:\.?[\w-]+/)*\.?[\w.-]+\.(?:py|md|yml|yaml|toml|txt|html|js|conf|json|sh|css)$")
PLAIN_FILES = {"Makefile", "Dockerfile", ".dockerignore", ".env.example", ".ci/run"}


@functools.cache
def _doc_text():
    return DOC.read_text(encoding="utf-8")


@functools.cache
def _rows():
    """(line number, ID, [exigence, statut, preuve]) for every requirement row of the document."""
    rows = []
    for number, line in enumerate(_doc_text().splitlines(), start=1):
        match = ROW_RE.match(line)
        if match:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows.append((number, match.group(1), cells[1:]))
    return rows


@functools.cache
def _tree(path):
    return ast.parse((ROOT_DIR / path).read_text(encoding="utf-8"))


def _defines(body, name):
    """The top-level function, class or assigned name ``name`` of ``body`` (a module's or a class's), or None."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return node
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return node
    return None


def _located(number, ident, message):
    return f"docs/security.md:{number} ({ident}): {message}"


def test_every_l1_and_l2_requirement_has_exactly_one_row():
    idents = [ident for _number, ident, _cells in _rows()]
    duplicates = sorted({ident for ident in idents if idents.count(ident) > 1})
    assert not duplicates, f"lignes en double : {duplicates}"
    assert sorted(EXPECTED - set(idents)) == [], "exigences L1/L2 sans ligne"
    assert sorted(set(idents) - EXPECTED) == [], "lignes qui ne sont pas des exigences L1/L2 d'ASVS 5.0"


def test_every_row_has_a_status_and_an_evidence():
    problems = []
    for number, ident, cells in _rows():
        if len(cells) != 3:
            problems.append(_located(number, ident, f"{len(cells) + 1} colonnes au lieu de 4 (un « | » de trop ?)"))
            continue
        requirement, status, evidence = cells
        if not requirement:
            problems.append(_located(number, ident, "exigence vide"))
        if status not in STATUSES:
            problems.append(_located(number, ident, f"statut « {status} » hors de {sorted(STATUSES)}"))
        if len(evidence) < 10:
            problems.append(_located(number, ident, "preuve vide ou trop courte"))
    assert not problems, "\n".join(problems)


def test_partial_rows_say_what_is_missing():
    problems = []
    for number, ident, cells in _rows():
        if len(cells) == 3 and cells[1] == "Partielle":
            _before, mark, after = cells[2].partition(MISSING_MARK)
            if not mark or len(after.strip(" .")) < 10:
                problems.append(_located(number, ident, f"« Partielle » sans « {MISSING_MARK} ce qui manque »"))
    assert not problems, "\n".join(problems)


def test_the_summary_counts_the_rows():
    """The « Bilan » table says how many rows have each status: it must say what the tables say."""
    counted = dict.fromkeys(STATUSES, 0)
    for _number, _ident, cells in _rows():
        if len(cells) == 3 and cells[1] in STATUSES:
            counted[cells[1]] += 1
    said = {
        match.group(1): int(match.group(2))
        for match in re.finditer(r"^\|\s*(Satisfaite|Partielle|Sans objet)\s*\|\s*(\d+)\s*\|\s*$", _doc_text(), re.M)
    }
    assert said == counted, f"le bilan dit {said}, les tables comptent {counted}"


def test_cited_tests_exist():
    problems = []
    cited = 0
    for number, ident, cells in _rows():
        for path, first, second, _params in NODE_RE.findall(" ".join(cells)):
            cited += 1
            if not (ROOT_DIR / path).is_file():
                problems.append(_located(number, ident, f"{path} n'existe pas"))
                continue
            body = _tree(path).body
            if second:  # Class::test
                klass = _defines(body, first)
                found = isinstance(klass, ast.ClassDef) and _defines(klass.body, second) is not None
                name = f"{first}::{second}"
            else:
                node = _defines(body, first)
                found = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                name = first
            if not found:
                problems.append(_located(number, ident, f"{path} ne définit pas {name}"))
    assert cited >= 100, f"seulement {cited} tests cités : l'analyse du document a-t-elle changé ?"
    assert not problems, "\n".join(problems)


def test_cited_settings_exist():
    problems = []
    cited = 0
    for number, ident, cells in _rows():
        for module, name, subscripts in SETTING_RE.findall(" ".join(cells)):
            cited += 1
            path = SETTINGS_DIR / f"{module}.py"
            if not path.is_file():
                problems.append(_located(number, ident, f"settings/{module}.py n'existe pas"))
                continue
            text = path.read_text(encoding="utf-8")
            if not re.search(rf"^{name}\s*=", text, re.MULTILINE):
                problems.append(_located(number, ident, f"settings/{module}.py n'affecte pas {name}"))
            for key in re.findall(r"\[\"([^\"]+)\"\]", subscripts):
                if f'"{key}"' not in text:
                    problems.append(_located(number, ident, f"settings/{module}.py n'a pas la clé {key!r}"))
    assert cited >= 30, f"seulement {cited} réglages cités : l'analyse du document a-t-elle changé ?"
    assert not problems, "\n".join(problems)


def test_cited_code_exists():
    problems = []
    for number, ident, cells in _rows():
        for path, name in CODE_RE.findall(" ".join(cells)):
            if not (ROOT_DIR / path).is_file():
                problems.append(_located(number, ident, f"{path} n'existe pas"))
                continue
            outer, _dot, inner = name.partition(".")
            node = _defines(_tree(path).body, outer)
            if node is not None and inner:
                node = _defines(node.body, inner) if isinstance(node, ast.ClassDef) else None
            if node is None:
                problems.append(_located(number, ident, f"{path} ne définit pas {name}"))
    assert not problems, "\n".join(problems)


def test_cited_paths_exist():
    problems = []
    for number, line in enumerate(_doc_text().splitlines(), start=1):
        for quoted in re.findall(r"`([^`]+)`", line):
            path = quoted.split("::")[0]
            if (path in PLAIN_FILES or PATH_RE.match(path)) and not (ROOT_DIR / path).exists():
                problems.append(f"docs/security.md:{number}: {path} n'existe pas")
    assert not problems, "\n".join(problems)


def test_the_parsers_read_what_they_should():
    """The patterns above, on sample cells: a pattern that silently matched nothing would let the document rot."""
    sample = (
        "`tests/a/test_b.py::test_c[x-y]`, `tests/d.py::Classe::test_e`, `sicoval_numerique/settings/base.py: "
        'OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]`, `accounts/middleware.py::IdleTimeoutMiddleware`, '
        "`partenaires/oauth.py::PartnerValidator._load_access_token`"
    )
    assert NODE_RE.findall(sample) == [
        ("tests/a/test_b.py", "test_c", "", "[x-y]"),
        ("tests/d.py", "Classe", "test_e", ""),
    ]
    assert SETTING_RE.findall(sample) == [("base", "OAUTH2_PROVIDER", '["ACCESS_TOKEN_EXPIRE_SECONDS"]')]
    assert CODE_RE.findall(sample) == [
        ("accounts/middleware.py", "IdleTimeoutMiddleware"),
        ("partenaires/oauth.py", "PartnerValidator._load_access_token"),
    ]
    assert len(_rows()) == len(EXPECTED) == 253
