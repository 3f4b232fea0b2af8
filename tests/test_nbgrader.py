"""nbgrader end to end: the walk-through of appendix/instructors.md, run as written, with nbgrader itself.

In a temporary folder, the module's fixture runs the page's commands in order:

* `scripts/assignments.py --nbgrader course/source`, then `nbgrader generate_assignment` for every chapter
  (the page shows one; the others follow by the same command);
* before `nbgrader autograde`, two students hand in two chapters: alice the solutions (taken from the source
  notebooks, markers removed), bob the untouched release;
* `nbgrader autograde`, `nbgrader generate_feedback`, `nbgrader export`.

The tests then read what nbgrader made: the releases (no solution line leaks), the gradebook (the solutions get
every autograded point, the untouched release none), the feedback pages and grades.csv. The page's table of
points must be what the script prints. Autograding executes the notebooks, so it samples the two chapters whose
notebooks run fastest.
"""

from __future__ import annotations

import csv
import os
import pathlib
import re
import shlex
import subprocess
import sys

import nbformat
import pytest

import book
from _solutions import assignments, hidden_lines, leaked_lines

ROOT = book.ROOT
PAGE = ROOT / "appendix" / "instructors.md"
CHAPTERS = sorted({p.parent.name for p in book.notebooks()})
SHOWN = "05-evaluation"  # the chapter the page's commands use
AUTOGRADED = (SHOWN, "01-recurrent")  # the two chapters whose notebooks run fastest
STUDENTS = {"alice": "solutions", "bob": "untouched release"}


def walkthrough() -> list[str]:
    """The commands of the page's section "Grading with nbgrader", in order, comments left out."""
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## Grading with nbgrader"):]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"^```bash\n(.*?)^```", section, re.M | re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def page_points() -> dict[str, tuple[float, float, float]]:
    """The page's table: chapter → (points from the checks, points graded by hand, total)."""
    rows = re.findall(r"^\| (\d\d-[a-z]+) \| (\d+) \| (\d+) \| (\d+) \|$", PAGE.read_text(encoding="utf-8"), re.M)
    return {chapter: (float(auto), float(hand), float(total)) for chapter, auto, hand, total in rows}


def hand_in(course: pathlib.Path, chapter: str) -> None:
    """alice hands in the release with every answer cell holding its solution; bob the release untouched."""
    for released in sorted((course / "release" / chapter).glob("*.ipynb")):
        source = nbformat.read(course / "source" / chapter / released.name, as_version=4)
        solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                     if c.metadata.get("nbgrader", {}).get("solution")}
        alice = nbformat.read(released, as_version=4)
        for cell in alice.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = "\n".join(line for line in solutions[grade_id].splitlines()
                                        if line.strip() not in (assignments.BEGIN, assignments.END))
        for student, nb in (("alice", alice), ("bob", nbformat.read(released, as_version=4))):
            folder = course / "submitted" / student / chapter
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, folder / released.name)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> pathlib.Path:
    """Run the page's walk-through in an empty folder; the course folder it makes."""
    commands = walkthrough()
    assert [c.split()[:2] for c in commands] == [
        ["python", "scripts/assignments.py"], ["cd", "course"], ["nbgrader", "generate_assignment"],
        ["nbgrader", "autograde"], ["nbgrader", "generate_feedback"], ["nbgrader", "export"]], commands
    # nbgrader calls its helpers (alembic) by name: the environment's bin folder goes first on PATH.
    env = {**os.environ, "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    cwd = tmp_path_factory.mktemp("instructor")
    logs = {}

    def run(args: list[str]) -> None:
        args = [sys.executable if a == "python" else str(ROOT / a) if a.startswith("scripts/") else a for a in args]
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
        logs[" ".join(args[:3])] = done.stdout
        assert done.returncode == 0 and "ERROR" not in done.stderr, f"{shlex.join(args)}:\n{done.stderr[-3000:]}"

    for command in commands:
        args = shlex.split(command)
        if args[0] == "cd":
            cwd = cwd / args[1]
        elif args[:2] == ["nbgrader", "generate_assignment"]:
            assert args[2] == SHOWN
            for chapter in CHAPTERS:
                run([*args[:2], chapter, *args[3:]])
        elif args[:2] == ["nbgrader", "autograde"]:
            assert args[2] == SHOWN
            for chapter in AUTOGRADED:
                hand_in(cwd, chapter)
                run([*args[:2], chapter, *args[3:]])
        else:
            run(args)
    (cwd / "script-output.txt").write_text(logs[f"{sys.executable} {ROOT / 'scripts/assignments.py'} --nbgrader"])
    return cwd


def test_the_page_shows_the_points_that_the_script_gives(course):
    printed = (course / "script-output.txt").read_text()
    reports = [assignments.make_student_notebook(book.read_notebook(p), p.relative_to(ROOT), nbgrader_source=True)[1]
               for p in book.notebooks()]
    table = {chapter: (auto, hand, auto + hand) for chapter, _, auto, hand in assignments.points_table(reports)}
    assert page_points() == table and list(table) == CHAPTERS
    text = PAGE.read_text(encoding="utf-8")
    for kind, points in assignments.POINTS.items():
        assert f"**{kind.capitalize()}: {points} points" in text or f"and {kind.capitalize()}: {points} points" in text
    for chapter, (auto, hand, total) in table.items():
        assert re.search(rf"^{chapter} +\d+ +{auto:g} +{hand:g} +{total:g}$", printed, re.M), printed
    assert (course / "nbgrader_config.py").is_file()


def test_every_chapter_is_released_without_any_solution_line(course):
    hidden = hidden_lines()
    for path in book.notebooks():
        chapter, name = path.parent.name, path.name
        release = nbformat.read(course / "release" / chapter / name, as_version=4)
        assert not leaked_lines(release, hidden), f"{chapter}/{name}: {leaked_lines(release, hidden)[:5]}"
        report = assignments.make_student_notebook(book.read_notebook(path), path.relative_to(ROOT))[1]
        written = [c for c in release.cells if c.cell_type == "markdown" and c.source == "YOUR ANSWER HERE"]
        kinds = re.findall(r":label: \S+\s*\*\*(\w+)", "\n".join(c.source for c in book.read_notebook(path).cells))
        assert len(written) == sum(k != "Implement" for k in kinds), f"{chapter}/{name}"
        assert report.points_by_hand == sum(assignments.POINTS[k.lower()] for k in kinds if k != "Implement")
        checks = [c for c in release.cells if c.cell_type == "code" and assignments.CHECK_CALL.search(c.source)]
        assert checks and all(c.metadata["nbgrader"]["locked"] for c in checks), f"{chapter}/{name}"


@pytest.mark.parametrize("chapter", AUTOGRADED)
def test_the_gradebook_gives_the_solutions_every_autograded_point_and_the_untouched_release_none(course, chapter):
    from nbgrader.api import Gradebook

    auto, hand, _ = page_points()[chapter]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        alice, bob = (gradebook.find_submission(chapter, s) for s in STUDENTS)
        assert (alice.max_code_score, alice.max_written_score) == (auto, hand)
        assert alice.code_score == auto > 0
        assert bob.code_score == 0
        assert bob.written_score == 0 and not bob.needs_manual_grade  # untouched answers: 0 points, nothing to read
        assert alice.needs_manual_grade  # the written solutions wait for a person
        for notebook in alice.notebooks:
            checks = [g for g in notebook.grades if g.name.endswith("-check")]
            assert checks and all(g.auto_score == g.max_score for g in checks), notebook.name


@pytest.mark.parametrize("chapter", AUTOGRADED)
def test_the_solutions_run_without_error_and_the_blank_checks_fail_only_as_not_implemented(course, chapter):
    for path in sorted((course / "autograded" / "alice" / chapter).glob("*.ipynb")):
        errors = [o.get("ename") for c in nbformat.read(path, as_version=4).cells for o in c.get("outputs", [])
                  if o.output_type == "error"]
        assert not errors, f"{path.name}: {errors}"
    for path in sorted((course / "autograded" / "bob" / chapter).glob("*.ipynb")):
        checks = [c for c in nbformat.read(path, as_version=4).cells
                  if c.cell_type == "code" and assignments.CHECK_CALL.search(c.source)]
        assert checks and all([o.get("ename") for o in c.outputs if o.output_type == "error"] == ["NotImplementedError"]
                              for c in checks), path.name


def test_feedback_and_grades_csv_show_the_scores(course):
    for student in STUDENTS:
        pages = sorted((course / "feedback" / student / SHOWN).glob("*.html"))
        assert [p.stem for p in pages] == sorted(p.stem for p in (course / "release" / SHOWN).glob("*.ipynb"))
        for page in pages:
            source = nbformat.read(course / "source" / SHOWN / f"{page.stem}.ipynb", as_version=4)
            points = [c.metadata["nbgrader"].get("points", 0) for c in source.cells if "nbgrader" in c.metadata]
            auto = sum(c.metadata["nbgrader"]["points"] for c in source.cells
                       if c.metadata.get("nbgrader", {}).get("locked"))
            scored = auto if student == "alice" else 0
            assert f"Score: {float(scored)} / {float(sum(points))}" in page.read_text(encoding="utf-8"), page
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(f)}
    for chapter in AUTOGRADED:
        auto, hand, total = page_points()[chapter]
        assert float(rows[chapter, "alice"]["score"]) == auto and float(rows[chapter, "bob"]["score"]) == 0
        assert float(rows[chapter, "alice"]["max_score"]) == total
