"""The equation index of the appendix (``_ext/equation_index.py``), generated at build time.

The generator is tested twice: on a tiny fake input, where the right answer is
known, and on the real repository, where every labelled equation must get a row
with at least one function and one test, each linked to the line that defines it.
"""

import importlib.util
import re
import sys

import pytest

import book

spec = importlib.util.spec_from_file_location("equation_index", book.ROOT / "_ext" / "equation_index.py")
eqi = sys.modules.setdefault("equation_index", importlib.util.module_from_spec(spec))
if not hasattr(eqi, "generate"):
    spec.loader.exec_module(eqi)

URL, BRANCH = "https://github.com/someone/somebook", "dev"


def fake_locate(name):
    # Deterministic fake places: functions in lib/fake.py, tests in their own file.
    if "::" in name:
        path, test = name.split("::")
        return eqi.Source(name, path, 10 + len(test))
    return eqi.Source(name, "lib/fake.py", len(name))


FAKE_DEFINED = {
    "eq-rnn-hidden": ["chapters/01/a.ipynb"],
    "eq-rnn-output": ["chapters/01/a.ipynb"],
    "eq-lstm-forget": ["chapters/02/b.ipynb"],
}
FAKE_TITLES = {"chapters/01/a.ipynb": "The recurrence", "chapters/02/b.ipynb": "Gates"}


def fake_rows(implemented, tested):
    return eqi.index_rows(FAKE_DEFINED, implemented, tested, fake_locate, fake_locate)


COMPLETE = (
    {"eq-rnn-hidden": ["rnnbook.rnn.forward"], "eq-rnn-output": ["rnnbook.rnn.output"], "eq-lstm-forget": ["rnnbook.lstm.step", "rnnbook.nn.LSTMCell"]},
    {"eq-rnn-hidden": ["tests/test_rnn.py::test_h"], "eq-rnn-output": ["tests/test_rnn.py::test_y"], "eq-lstm-forget": ["tests/test_lstm.py::test_f"]},
)


# ------------------------------------------------------------------ fake input


def test_fake_complete_input_gives_one_row_per_label_in_order():
    rows = fake_rows(*COMPLETE)
    assert [r.label for r in rows] == list(FAKE_DEFINED)
    assert rows[2].page == "chapters/02/b.ipynb"
    assert [s.name for s in rows[2].functions] == ["rnnbook.lstm.step", "rnnbook.nn.LSTMCell"]
    assert eqi.missing(rows) == {}
    eqi.check(rows)  # complete: no error


def test_fake_input_without_function_or_test_fails():
    implemented, tested = COMPLETE
    implemented = {k: v for k, v in implemented.items() if k != "eq-rnn-output"}
    tested = {k: v for k, v in tested.items() if k not in ("eq-rnn-output", "eq-lstm-forget")}
    rows = fake_rows(implemented, tested)
    assert len(rows) == 3, "an incomplete equation still gets its row"
    assert eqi.missing(rows) == {"eq-rnn-output": ["function", "test"], "eq-lstm-forget": ["test"]}
    with pytest.raises(eqi.IncompleteIndexError, match=r"eq-rnn-output has no function and no test.*eq-lstm-forget has no test"):
        eqi.check(rows)
    text = eqi.render(rows, URL, BRANCH, FAKE_TITLES)
    assert text.count("**missing**") == 3


def test_fake_render_links_every_equation_function_and_test():
    text = eqi.render(fake_rows(*COMPLETE), URL, BRANCH, FAKE_TITLES)
    table_rows = [l for l in text.splitlines() if l.startswith("| {eq}")]
    assert [re.match(r"\| \{eq\}`([^`]+)`", l).group(1) for l in table_rows] == list(FAKE_DEFINED)
    # one section per page, titled, linking the page
    assert re.findall(r"^## (.+)$", text, flags=re.M) == ["The recurrence", "Gates"]
    assert "{doc}`/chapters/01/a`" in text and "{doc}`/chapters/02/b`" in text
    # function and test links carry the repository, the branch, the path and the line
    assert f"[`rnn.forward`]({URL}/blob/{BRANCH}/lib/fake.py#L{len('rnnbook.rnn.forward')})" in text
    assert f"[`test_lstm.py::test_f`]({URL}/blob/{BRANCH}/tests/test_lstm.py#L{10 + len('test_f')})" in text
    assert "**missing**" not in text


def test_bad_arguments_raise_value_error_naming_them():
    with pytest.raises(ValueError, match="implemented"):
        eqi.index_rows(FAKE_DEFINED, ["eq-rnn-hidden"], {}, fake_locate, fake_locate)
    with pytest.raises(ValueError, match="repo_url"):
        eqi.render(fake_rows(*COMPLETE), "github.com/x/y", BRANCH, FAKE_TITLES)
    with pytest.raises(ValueError, match="name"):
        eqi.locate_test("tests/test_equation_index.py")
    with pytest.raises(ValueError, match="no test"):
        eqi.locate_test("tests/test_equation_index.py::test_that_does_not_exist")


# ------------------------------------------------------------------ the real repository


@pytest.fixture(scope="module")
def real():
    return eqi.generate()


def test_real_index_has_a_complete_row_for_every_label(real):
    rows, text = real
    assert [r.label for r in rows] == list(book.defined_labels())
    eqi.check(rows)  # every equation has a function and a test
    for label in book.defined_labels():
        assert len(re.findall(r"^\| \{eq\}`" + re.escape(label) + "`", text, flags=re.M)) == 1, label
    assert "**missing**" not in text


def test_real_links_point_at_the_lines_that_define_them(real):
    rows, text = real
    repo = book.config()["repository"]
    prefix = f"{repo['url'].rstrip('/')}/blob/{repo.get('branch', 'main')}/"
    for row in rows:
        for source in row.functions + row.tests:
            path = book.ROOT / source.path
            assert path.is_file(), source
            line = path.read_text(encoding="utf-8").splitlines()[source.line - 1]
            name = source.name.split("::")[-1].split(".")[-1]
            assert re.match(rf"\s*(async\s+)?(def|class)\s+{re.escape(name)}\b", line), (source, line)
            assert f"]({prefix}{source.path}#L{source.line})" in text
    # links go nowhere else
    assert set(re.findall(r"\]\((https://[^)#]+)", text)) <= {prefix + s.path for r in rows for s in r.functions + r.tests}


def test_real_functions_and_tests_are_those_of_the_label_readers(real):
    rows, _ = real
    implemented, tested = book.docstring_labels(), book.marked_tests()
    for row in rows:
        assert [s.name for s in row.functions] == implemented[row.label]
        assert [s.name for s in row.tests] == tested[row.label]


def test_page_has_the_marker_and_the_build_hook_replaces_it(real):
    page = (book.ROOT / (eqi.DOCNAME + ".md")).read_text(encoding="utf-8")
    assert page.count(eqi.MARKER) == 1, f"{eqi.DOCNAME}.md must hold {eqi.MARKER} once, where the table goes"
    source = [page]
    eqi._on_source_read(None, eqi.DOCNAME, source)
    assert eqi.MARKER not in source[0]
    assert source[0].startswith(page.split(eqi.MARKER)[0])
    assert source[0].count("| {eq}`") == len(book.defined_labels())
    other = [page]
    eqi._on_source_read(None, "chapters/01-recurrent/01-recurrence", other)
    assert other == [page], "only the index page is touched"
