"""The notebook conventions of DESIGN.md §4, checked on every chapter notebook.

Whether each notebook *runs* (alone, in an empty folder) is checked by
``make test-notebooks`` with nbval; this file checks what can be read.
"""

import re

import pytest

import book

NOTEBOOKS = book.notebooks()
IDS = [p.relative_to(book.ROOT).as_posix() for p in NOTEBOOKS]
REPO = book.config()["repository"]
URL, BRANCH = REPO["url"].rstrip("/"), REPO.get("branch", "main")
SLUG = URL.removeprefix("https://github.com/")


def test_repository_url_lives_in_config():
    assert URL.startswith("https://github.com/") and SLUG.count("/") == 1, f"_config.yml repository.url: {URL!r}"
    assert book.config()["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebook under chapters/"


def test_toc_and_files_agree():
    toc = set(book.toc_files())
    pages = {p.relative_to(book.ROOT).with_suffix("").as_posix() for p in book.chapter_pages()}
    assert not pages - toc, f"pages missing from _toc.yml: {sorted(pages - toc)}"
    missing = [f for f in toc if not any((book.ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_gated_solutions_are_not_combined_with_hide_solutions():
    # sphinx-exercise issue 89: hide_solutions with gated solutions crashes the build.
    assert "hide_solutions" not in (book.ROOT / "_config.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
class TestNotebook:
    def test_stored_without_outputs(self, path):
        nb = book.read_notebook(path)
        dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
        assert not dirty, f"code cells {dirty} carry outputs or execution counts: clear them before committing"

    def test_kernelspec_is_python3(self, path):
        assert book.read_notebook(path).metadata.get("kernelspec", {}).get("name") == "python3"

    def test_cell_1_is_title_and_colab_badge_to_itself(self, path):
        cell = book.read_notebook(path).cells[0]
        assert cell.cell_type == "markdown" and cell.source.startswith("# "), "cell 1 must start with the '# Title'"
        expected = f"https://colab.research.google.com/github/{SLUG}/blob/{BRANCH}/{path.relative_to(book.ROOT).as_posix()}"
        links = re.findall(r"\]\((https://colab\.research\.google\.com/github/[^)\s]+)\)", cell.source)
        assert links == [expected], f"cell 1 must link to {expected}; found {links}"
        assert "colab-badge.svg" in cell.source, "cell 1 must show the Open-in-Colab badge"

    def test_cell_2_installs_only_in_colab(self, path):
        cell = book.read_notebook(path).cells[1]
        assert cell.cell_type == "code"
        lines = [l for l in cell.source.splitlines() if l.strip() and not l.lstrip().startswith("#")]
        # The lab's notebooks need the lab's extra dependencies (its data), and so does Section 6.3 (its
        # RUN_TWEETS cell trains on the lab's tweets); the others only the library.
        rel = path.relative_to(book.ROOT).as_posix()
        lab = rel.startswith("chapters/07-lab/") or rel == "chapters/06-parallel/03-experiments.ipynb"
        package = "rnnbook[lab]" if lab else "rnnbook"
        assert lines == [
            "import sys",
            'if "google.colab" in sys.modules:',
            f'    %pip install -q "{package} @ git+{URL}@{BRANCH}"',
        ], f"cell 2 must be the guarded install cell for {package} from {URL}@{BRANCH}; got {lines}"
        assert "remove-cell" in cell.metadata.get("tags", []), "cell 2 is for Colab only: tag it remove-cell"

    def test_is_seeded(self, path):
        code = "\n".join(c.source for c in book.read_notebook(path).cells if c.cell_type == "code")
        assert re.search(r"default_rng\(\s*\d+|manual_seed\(\s*\d+", code), "no seed: use np.random.default_rng(seed) / torch.manual_seed"
        assert not re.search(r"np\.random\.(seed|rand|randn|randint|normal|uniform)\(", code), (
            "use a seeded Generator (np.random.default_rng), not NumPy's global random state"
        )

    def test_no_paths_into_the_repository(self, path):
        code = "\n".join(c.source for c in book.read_notebook(path).cells if c.cell_type == "code")
        found = re.findall(r"[\"'](\.\./[^\"']*|(?:lib|data|chapters|tests)/[^\"']*)[\"']", code)
        assert not found, f"paths into the repository break in Colab and in an empty folder: {found}"

    def test_ends_with_three_exercises_with_dropdown_solutions(self, path):
        text = book.markdown_text(path)
        exercises = re.findall(r"^:::+\{exercise\}[^\n]*\n:label: (\S+)", text, flags=re.M)
        assert len(exercises) >= 3, f"at least three exercises; found {exercises}"
        starts = re.findall(r"^:::+\{solution-start\} (\S+)\n:class: dropdown", text, flags=re.M)
        ends = re.findall(r"^:::+\{solution-end\}", text, flags=re.M)
        assert sorted(starts) == sorted(exercises), f"each exercise needs one gated dropdown solution: {exercises} vs {starts}"
        assert len(ends) == len(starts), f"{len(starts)} solution-start but {len(ends)} solution-end"
        assert not re.search(r"^```\{(exercise|solution)", text, flags=re.M), "use colon fences (:::) so Colab shows them readably"


def test_exercise_labels_are_unique_across_the_book():
    labels = []
    for path in NOTEBOOKS:
        labels += re.findall(r"^:::+\{exercise\}[^\n]*\n:label: (\S+)", book.markdown_text(path), flags=re.M)
    assert len(labels) == len(set(labels)), f"duplicate exercise labels: {sorted(l for l in labels if labels.count(l) > 1)}"
