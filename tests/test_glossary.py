"""The bilingual glossary of the appendix (``appendix/glossary.md``).

1. Every technical term of the two course notes is a term of the glossary.
2. Every Indonesian term the chapters give in italics is in the glossary.
3. The glossary is well formed: each entry says where its term is defined, and
   each Indonesian term is listed, with its English term, in the page's
   Indonesian → English table.

The notes live outside the repository (``../shared/seeds`` on the machines where
the book was written; CI does not have them), so their term list is embedded
below as data. When the notes are present, a test checks that list against them.
"""

from __future__ import annotations

import os
import pathlib
import re

import pytest

import book

GLOSSARY = book.ROOT / "appendix" / "glossary.md"

# The technical terms of the two course notes, as the notes write them, and the
# notes that use them (A: "Penjelasan Matematika Model Deep Learning: RNN, LSTM,
# GRU"; B: "Tugas Week 4 - Penjelasan Persamaan Matematika pada Arsitektur RNN,
# LSTM, dan GRU"). Read off the two notes by hand, section by section: every
# quantity of their equation lists ("Penjelasan", "Dimana"), every method and
# problem their prose names, in English or in Indonesian, and the metrics' terms.
NOTES_TERMS: list[tuple[str, str]] = [
    # RNN (A §1, B §1)
    ("Recurrent Neural Network", "AB"), ("RNN", "AB"), ("jaringan saraf", "B"), ("loop internal", "B"),
    ("Hidden state", "AB"), ("Input", "AB"), ("Output", "AB"), ("Bobot", "AB"), ("bias", "B"),
    ("Fungsi aktivasi", "AB"), ("sigmoid", "AB"), ("fungsi sigmoid", "B"), ("tanh", "AB"),
    ("hyperbolic tangent", "B"), ("sequence", "A"),
    # vanishing / exploding gradients (A §1, B §1b)
    ("Vanishing gradient", "AB"), ("Exploding gradient", "AB"), ("backpropagation through time", "B"),
    ("BPTT", "B"), ("gradien", "B"), ("matriks bobot", "B"), ("nilai eigen", "B"),
    ("dependensi jangka panjang", "B"),
    # LSTM (A §2, B §2)
    ("Long Short-Term Memory", "AB"), ("LSTM", "AB"), ("mekanisme gating", "B"), ("gerbang", "B"),
    ("Gate", "A"), ("Forget gate", "AB"), ("Input gate", "AB"), ("Candidate cell state", "A"),
    ("Cell State Candidate", "B"), ("Cell state", "AB"), ("Cell State Update", "B"), ("Output gate", "AB"),
    ("Memory Cell", "A"), ("Hadamard product", "B"), ("perkalian elemen-wise", "B"), ("concatenation", "B"),
    # GRU (A §3, B §3)
    ("Gated Recurrent Unit", "AB"), ("GRU", "AB"), ("Update gate", "AB"), ("Reset gate", "AB"),
    ("Candidate hidden state", "AB"), ("Hidden state kandidat baru", "B"), ("Hidden State Update", "B"),
    # dropout (B §4)
    ("Dropout", "B"), ("regularisasi", "B"), ("overfitting", "B"), ("neuron", "B"), ("training", "B"),
    ("probabilitas", "AB"), ("mask", "B"), ("Bernoulli", "B"), ("inferensi", "B"),
    ("nilai yang diharapkan", "B"), ("inverted dropout", "B"), ("penskalaan", "B"),
    # loss (A §4, B §5)
    ("Loss Function", "A"), ("Binary Cross-Entropy Loss", "AB"), ("klasifikasi sentimen biner", "B"),
    ("jumlah sampel", "B"), ("Label asli", "A"), ("label aktual", "B"), ("Prediksi model", "AB"),
    # metrics (B §6)
    ("Metrik Evaluasi", "B"), ("Akurasi", "B"), ("Accuracy", "B"), ("Presisi", "B"), ("Precision", "B"),
    ("Recall", "B"), ("sensitivitas", "B"), ("F1-Score", "B"), ("rata-rata harmonik", "B"),
    ("false positive", "B"), ("false negative", "B"), ("distribusi kelas tidak seimbang", "B"),
    ("TP", "B"), ("TN", "B"), ("FP", "B"), ("FN", "B"),
    ("Area Under the ROC Curve", "B"), ("AUC", "B"), ("area di bawah kurva ROC", "B"), ("kurva ROC", "B"),
    ("Receiver Operating Characteristic", "B"), ("true positive rate", "B"), ("TPR", "B"),
    ("false positive rate", "B"), ("FPR", "B"), ("threshold", "B"), ("random guessing", "B"),
    ("kemampuan diskriminatif", "B"),
]

# The Indonesian words of the two notes (all their words minus English ones,
# names and TeX), used to tell an Indonesian italic span of a chapter from an
# English emphasis. The Indonesian words of the glossary's own italic terms are
# added at run time, so that a term the chapters coin (e.g. *gerbang lupa*) counts too.
NOTES_INDONESIAN_WORDS = frozenset(
    """
    acak ada adalah akan akhir aktif aktivasi aktual akurasi aliran antara apa arsitektur asli atau bagian bahwa
    baik banyak baru bawah beberapa benar benar-benar berbagai berguna bernilai berpotensi berulang biaya biner
    bobot bukan butuh cepat cocok dalam dan dari dasar dengan dependensi di dibanding digantikan diharapkan
    diidentifikasi dikalikan dikenal dilakukan dilupakan dimana dipertahankan dirancang disimpan diskala
    diskriminatif distribusi ditambahkan dua efisiensi eigen elemen-wise evaluasi faktor fungsi gerbang gradien
    hampir hanya harmonik harus hingga implementasi inferensi informasi ini jangka jaringan jika juga jumlah kali
    kandidat kasus ke ke-t keduanya kelas kelebihan kemampuan ketika kita klasifikasi kompleks kurva lama lebih mana
    masalah matematika matriks mekanisme melalui meledak mematikan membantu memberikan membuat memetakan memiliki
    mempelajari memperbarui memperkenalkan mempertahankan memungkinkan memungkinkannya mencegah menentukan mengalir
    mengatasi menggabungkan menggambarkan menggunakan menghasilkan menghilang mengontrol mengukur mengurangi
    menjadi menjaga menunjukkan menyeimbangkan menyelesaikan metrik modifikasi namun negatif nilai outputnya pada
    panjang penjelasan penskalaan penting performa perhatikan perkalian persamaan positif prediksi presisi
    probabilitas proporsi rata-rata regularisasi rentang ringkasan saat sama sampel saraf satu sebagai sebanding
    sebelumnya seberapa secara sedang sederhana sedikit seimbang selama sempurna semua sensitivitas sentimen
    seperti sering setara sulit tabel tanpa tapi teknik tepat terjadi terpisah tetap tidak tinggi tugas tunggal
    umum untuk utama versi waktu yang
    """.split()
)

# A chapter's Indonesian italic span of at most this many words is a term and must be in the
# glossary; a longer one is a sentence quoted from the notes, as is any span in quotation marks.
MAX_TERM_WORDS = 4

CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.S)
# *text*: not part of **bold**, may wrap onto the next line but not across a blank line.
ITALIC = re.compile(r"(?<![*\w\\])\*(?![\s*])((?:[^*\n]|\n(?!\s*\n))+?)(?<![\s\\])\*(?![*\w])")
QUOTES = "\"“”'‘’"


def normalize(text: str) -> str:
    return " ".join(text.replace("*", "").split()).strip(" .,;:").lower()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]+(?:-[a-z]+)*", text.lower())


def italic_spans(text: str) -> list[tuple[str, bool]]:
    """(span, quoted) for every *italic* span of MyST text, outside code and math."""
    text = CODE.sub(" ", text)
    text = MATH.sub(" M ", text)
    text = text.replace("**", "\x00\x00")
    out = []
    for m in ITALIC.finditer(text):
        before, after = text[m.start() - 1 : m.start()], text[m.end() : m.end() + 1]
        out.append((" ".join(m.group(1).split()), bool(before and after and before in QUOTES and after in QUOTES)))
    return out


def glossary_entries() -> list[dict]:
    """The entries of the page's ``{glossary}`` directive: term lines and definition text."""
    text = GLOSSARY.read_text(encoding="utf-8")
    m = re.search(r"^```\{glossary\}\n(.*?)^```$", text, flags=re.M | re.S)
    assert m, "appendix/glossary.md must hold a ```{glossary} directive"
    entries, current = [], None
    for line in m.group(1).splitlines():
        if not line.strip() or (line.startswith(":") and current is None and not entries):
            if not line.strip() and current and current["definition"]:
                entries.append(current)
                current = None
            continue
        if line[0].isspace():
            assert current, f"definition without a term: {line!r}"
            current["definition"] += line.strip() + " "
        else:
            if current is None or current["definition"]:
                if current:
                    entries.append(current)
                current = {"terms": [], "definition": ""}
            current["terms"].append(line.strip())
    if current:
        entries.append(current)
    return entries


ENTRIES = glossary_entries()
TERM_LINES = [t for e in ENTRIES for t in e["terms"]]
TERMS = {normalize(t) for t in TERM_LINES}
INDONESIAN_TERMS = {normalize(t) for t in TERM_LINES if t.startswith("*")}
ENGLISH_TERMS = {normalize(t) for t in TERM_LINES if not t.startswith("*")}
GLOSSARY_ITALICS = {normalize(s) for s, _ in italic_spans(GLOSSARY.read_text(encoding="utf-8"))}
# Words that are also English (hidden, state, input …) do not make a span Indonesian.
INDONESIAN_WORDS = (NOTES_INDONESIAN_WORDS | {w for s in GLOSSARY_ITALICS for w in words(s)}) - {
    w for t in ENGLISH_TERMS for w in words(t)
} - {"data", "model", "parameter"}


def is_indonesian(span: str) -> bool:
    return any(w in INDONESIAN_WORDS for w in words(span))


def chapter_indonesian_terms() -> dict[str, list[str]]:
    """normalized span → pages, for the Indonesian italic terms (short, unquoted) of the chapters."""
    out: dict[str, list[str]] = {}
    for page in book.chapter_pages():
        for span, quoted in italic_spans(book.markdown_text(page)):
            if not quoted and len(span.split()) <= MAX_TERM_WORDS and is_indonesian(span):
                out.setdefault(normalize(span), []).append(page.relative_to(book.ROOT).as_posix())
    return out


CHAPTER_TERMS = chapter_indonesian_terms()


# ------------------------------------------------------------------ the notes' terms


@pytest.mark.parametrize("term,notes", NOTES_TERMS, ids=[t for t, _ in NOTES_TERMS])
def test_every_term_of_the_notes_is_a_glossary_term(term, notes):
    assert normalize(term) in TERMS, (
        f"{term!r} (note {' and '.join(notes)}) is not a term of appendix/glossary.md: "
        "add it as a term line of the entry that defines it"
    )


def _notes_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("RNNBOOK_NOTES", book.ROOT.parent / "shared" / "seeds"))


@pytest.mark.skipif(not _notes_dir().is_dir(), reason="the course notes are not in this checkout (CI)")
def test_embedded_term_list_matches_the_notes():
    notes = {}
    for path in sorted(_notes_dir().glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        notes["B" if "Tugas Week 4" in text else "A"] = " ".join(text.lower().split())
    assert set(notes) == {"A", "B"}, f"expected the two notes in {_notes_dir()}"
    wrong = [(t, n) for t, which in NOTES_TERMS for n in which if t.lower() not in notes[n]]
    assert not wrong, f"terms not found in the note they are attributed to: {wrong}"


# ------------------------------------------------------------------ the chapters' Indonesian terms


def test_the_chapters_indonesian_terms_are_found():
    # Guards the extraction itself: terms the chapters are known to use, and English emphasis that is not one.
    assert {"keadaan tersembunyi", "gerbang lupa", "bobot", "gradien menghilang"} <= set(CHAPTER_TERMS)
    assert not {"not", "same", "and", "cell state", "candidate"} & set(CHAPTER_TERMS)
    assert italic_spans('the "*tanpa banyak modifikasi*" of **note B** and *x*') == [
        ("tanpa banyak modifikasi", True),
        ("x", False),
    ]


@pytest.mark.parametrize("term", sorted(CHAPTER_TERMS))
def test_every_indonesian_term_of_the_chapters_is_in_the_glossary(term):
    assert term in GLOSSARY_ITALICS, (
        f"*{term}* (used in {sorted(set(CHAPTER_TERMS[term]))}) is not in appendix/glossary.md: add it as a term "
        "of the entry it translates, or to the table of other words if it is not a technical term"
    )


# ------------------------------------------------------------------ the glossary itself


def test_glossary_has_entries_and_unique_terms():
    assert len(ENTRIES) >= 60, f"only {len(ENTRIES)} glossary entries"
    lowered = [normalize(t) for t in TERM_LINES]
    dupes = sorted({t for t in lowered if lowered.count(t) > 1})
    assert not dupes, f"terms defined twice (Sphinx would warn): {dupes}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["terms"][0] for e in ENTRIES])
def test_each_entry_is_english_first_and_says_where_it_is_defined(entry):
    assert not entry["terms"][0].startswith("*"), "the first term line is the English term (the sort key)"
    assert re.search(r"\{(doc|eq)\}`[^`]+`", entry["definition"]), "link the page ({doc}) or equation ({eq})"
    for target in re.findall(r"\{doc\}`(/[^`<]+)`", entry["definition"]):
        assert any((book.ROOT / target.lstrip("/")).with_suffix(s).exists() for s in (".ipynb", ".md")), target
    for label in re.findall(r"\{eq\}`([^`]+)`", entry["definition"]):
        assert label in book.defined_labels(), f"{{eq}} to an undefined label {label}"


def test_indonesian_table_lists_every_indonesian_term_with_its_entry():
    text = GLOSSARY.read_text(encoding="utf-8")
    rows = dict(
        (normalize(id_), normalize(en)) for id_, en in re.findall(r"^\| (\*[^|]+\*) \| \{term\}`([^`]+)` \|$", text, flags=re.M)
    )
    entry_of = {normalize(t): e for e in ENTRIES for t in e["terms"]}
    assert set(rows) == INDONESIAN_TERMS, (
        f"missing from the table: {sorted(INDONESIAN_TERMS - set(rows))}; not terms: {sorted(set(rows) - INDONESIAN_TERMS)}"
    )
    for id_, en in rows.items():
        assert entry_of[en] is entry_of[id_], f"*{id_}* is listed with {en!r}, which is another entry"
    assert list(rows) == sorted(rows), "keep the Indonesian table in alphabetical order"
