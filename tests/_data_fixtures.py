"""Fixtures of the data tests: a small corpus CSV, tar archives, a local HTTP server.

Imported as ``from _data_fixtures import ...`` (pytest puts ``tests/`` on sys.path).
Everything here is built by the tests themselves; nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import socket
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

# (sentiment, confidence, text as stored in the file). The file order matters
# for assign_topics: airline rows, then DeflateGate, then Coachella, as in the
# real corpus. Comments give what the loader must make of each row.
CORPUS_ROWS: list[tuple[str, str, str]] = [
    ("negative", "1", "@united lost my bag again"),  # kept as is
    ("positive", "0.6667", "@JetBlue caf\u00e9 on board was great"),  # é is one Mac Roman byte (0x8E)
    ("negative", "", "@SouthwestAir delayed\r\rno info\r"),  # CRs inside a quoted field
    ("positive", "1", "@VirginAmerica A &amp;amp; B &lt;3 &amp; more"),  # double-escaped entity
    ("negative", "1", "@usairways tea&amp;not coffee"),  # "&not" must not become "¬"
    ("positive", "1", "@united thanks!"),  # kept: first of three copies
    ("positive", "0.5", "@UNITED   Thanks!"),  # near duplicate (case, spaces): dropped
    ("positive", "1", "@united thanks!"),  # exact duplicate: dropped
    ("negative", "0.4", "@AmericanAir ok then"),  # conflict with the next row: both dropped
    ("positive", "0.6", "@americanair OK  then"),
    ("neutral", "1", "@united what time is boarding?"),  # neutral: dropped
    ("negative", "1", "@DeltaAssist still waiting"),  # no airline handle: not airline; topic filled as airline
    ("positive", "1", "@Delta you're great"),  # kept, airline Delta
    ("negative", "1", "@united worst \u2030\u00db\u00aa_ ever"),  # mojibake: kept, counted
    ("negative", "1", '@united "really" bad'),  # quotes inside a quoted field
    *[("negative", "1", f"@united flight {i} delayed") for i in range(1, 11)],
    *[("positive", "1", f"@jetblue flight {i} was lovely") for i in range(1, 6)],
    ("negative", "0.7", "Brady's balls #DeflateGate"),  # not airline; topic DeflateGate
    ("negative", "0.7", "Tom Brady cheats again"),  # no keyword: topic filled as DeflateGate
    ("positive", "", "Coachella lineup! #Coachella2015"),  # not airline; topic Coachella
]

#: (text, label, airline) that load_sentiment("airline") must return, in any order and split.
AIRLINE_EXPECTED: set[tuple[str, int, str]] = {
    ("@united lost my bag again", 0, "United"),
    ("@JetBlue caf\u00e9 on board was great", 1, "JetBlue"),
    ("@SouthwestAir delayed no info", 0, "Southwest"),
    ("@VirginAmerica A & B <3 & more", 1, "Virgin America"),
    ("@usairways tea&not coffee", 0, "US Airways"),
    ("@united thanks!", 1, "United"),
    ("@Delta you're great", 1, "Delta"),
    ("@united worst \u2030\u00db\u00aa_ ever", 0, "United"),
    ('@united "really" bad', 0, "United"),
    *{(f"@united flight {i} delayed", 0, "United") for i in range(1, 11)},
    *{(f"@jetblue flight {i} was lovely", 1, "JetBlue") for i in range(1, 6)},
}

#: Extra (text, label, topic) that load_sentiment("tweets") keeps besides the airline ones.
TWEETS_EXTRA: set[tuple[str, int, str]] = {
    ("@DeltaAssist still waiting", 0, "airline"),
    ("Brady's balls #DeflateGate", 0, "DeflateGate"),
    ("Tom Brady cheats again", 0, "DeflateGate"),
    ("Coachella lineup! #Coachella2015", 1, "Coachella"),
}


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_corpus_csv(path: Path, rows: list[tuple[str, str, str]] = CORPUS_ROWS, *, header: str = "sentiment,confidence,text") -> bytes:
    """Write ``rows`` as the real corpus is stored: Mac Roman, CRLF, quoted fields. Returns the bytes."""
    lines = [header] + [f"{s},{c},{_csv_field(t)}" for s, c, t in rows]
    data = ("\r\n".join(lines) + "\r\n").encode("mac_roman")
    path.write_bytes(data)
    return data


# ---------------------------------------------------------------- tar archives

#: (member path, review text, label) of the small IMDB-like archive.
IMDB_REVIEWS: list[tuple[str, str, int]] = [
    *[(f"aclImdb/train/pos/{i}_{7 + i % 4}.txt", f"Loved film {i}.<br /><br />Would watch again.", 1) for i in range(10)],
    *[(f"aclImdb/train/neg/{i}_{1 + i % 4}.txt", f"Hated film {i}.<br/>Dull.", 0) for i in range(10)],
    ("aclImdb/train/neg/10_2.txt", "Loved film 3.  Would watch again.", 0),  # same text as a pos review: conflict
    *[(f"aclImdb/test/pos/{i}_{8 + i % 3}.txt", f"Great test movie {i}<br />!", 1) for i in range(4)],
    *[(f"aclImdb/test/neg/{i}_{2 + i % 3}.txt", f"Awful test movie {i}", 0) for i in range(4)],
]
UNSUP_TEXT = "Unlabelled review, must be skipped."


def _add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def make_imdb_archive(path: Path, extra: list[tarfile.TarInfo] | None = None) -> bytes:
    """An IMDB-like ``.tar.gz`` with train/test pos/neg, ``train/unsup`` and a README; ``extra`` members last."""
    with tarfile.open(path, "w:gz") as tar:
        for folder in ("aclImdb", "aclImdb/train", "aclImdb/train/unsup"):
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        _add_file(tar, "aclImdb/README", b"Large Movie Review Dataset v1.0\n")
        for name, text, _ in IMDB_REVIEWS:
            _add_file(tar, name, text.encode("utf-8"))
        _add_file(tar, "aclImdb/train/unsup/0_0.txt", UNSUP_TEXT.encode())
        for info in extra or []:
            if info.isreg():
                _add_file(tar, info.name, b"evil\n")
            else:
                tar.addfile(info)
    return path.read_bytes()


def link_member(name: str, target: str, *, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


def file_member(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)  # REGTYPE; make_imdb_archive gives it content


def device_member(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info


# ---------------------------------------------------------------- HTTP server


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, bytes]
    requests: list[str]

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.requests.append(self.path)
        if self.path.startswith("/truncated/"):
            # Promise the whole file, send half of it, hang up.
            body = self.routes["/" + self.path.split("/", 2)[2]]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if self.path.startswith("/no-length/"):
            # No Content-Length, half the file, then close: only the checksum can tell.
            body = self.routes["/" + self.path.split("/", 2)[2]]
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


class LocalServer:
    """An HTTP server on 127.0.0.1 (a free port) serving ``routes`` from a thread."""

    def __init__(self, routes: dict[str, bytes]):
        handler = type("Handler", (_Handler,), {"routes": routes, "requests": []})
        self.requests: list[str] = handler.requests
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def serving(routes: dict[str, bytes]) -> Iterator[LocalServer]:
    server = LocalServer(routes)
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def files_under(folder: Path) -> list[str]:
    """Every path under ``folder`` (files and folders, hidden ones too), relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
