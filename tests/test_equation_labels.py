"""Every labelled equation of the book is computed by the library and checked by a test.

DESIGN.md §3: each display equation the code computes carries a MyST label
``eq-<family>-<name>``; the function that computes it names the label in its
docstring; a test marked ``@pytest.mark.equation("<label>")`` checks that function.
"""

import pytest

import book

DEFINED = book.defined_labels()
LABELS = sorted(DEFINED)


def test_the_chapters_define_labelled_equations():
    assert LABELS, "no `$$ … $$ (eq-…)` label found in chapters/: is the regex or the layout wrong?"


@pytest.mark.parametrize("label", LABELS)
def test_label_is_well_formed_and_unique(label):
    family = label.split("-")[1]
    assert family in book.FAMILIES, f"{label}: family {family!r} is not one of {book.FAMILIES} (DESIGN.md §3)"
    assert len(DEFINED[label]) == 1, f"{label} is defined more than once: {DEFINED[label]}"


@pytest.mark.parametrize("label", LABELS)
def test_label_is_named_in_a_library_docstring(label):
    assert label in book.docstring_labels(), (
        f"{label} (defined in {DEFINED[label][0]}) is named in no docstring of an rnnbook function or class: "
        "write the label in the docstring of the function that computes it"
    )


@pytest.mark.parametrize("label", LABELS)
def test_label_is_checked_by_a_marked_test(label):
    assert label in book.marked_tests(), (
        f"{label} has no test marked @pytest.mark.equation({label!r}): add one that checks its function"
    )


def test_every_docstring_label_is_in_the_book():
    stale = {label: names for label, names in book.docstring_labels().items() if label not in DEFINED}
    assert not stale, f"docstrings name labels that no chapter defines (typo, or equation removed): {stale}"


def test_every_marked_label_is_in_the_book():
    stale = {label: tests for label, tests in book.marked_tests().items() if label not in DEFINED}
    assert not stale, f"tests are marked with labels that no chapter defines: {stale}"


def test_every_equation_reference_resolves():
    dangling = {label: pages for label, pages in book.referenced_labels().items() if label not in DEFINED}
    assert not dangling, f"{{eq}} references to undefined labels: {dangling}"
