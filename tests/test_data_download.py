"""rnnbook.data.download and the IMDB loader, against archives served from 127.0.0.1.

No test touches the internet: the archives are built here (an IMDB-like
layout with ``train/unsup`` and ``<br />``) and served by ``http.server`` in
a thread. Each failure mode must leave nothing half-written in the cache.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import urllib.request
from pathlib import Path

import pytest
from _data_fixtures import (
    IMDB_REVIEWS,
    UNSUP_TEXT,
    closed_port,
    device_member,
    file_member,
    files_under,
    link_member,
    make_imdb_archive,
    serving,
)

from rnnbook.data import ChecksumError, DownloadError, download, load_sentiment, resolve_cache_dir, safe_extract


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def archive(tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "src" / "aclImdb_v1.tar.gz"
    path.parent.mkdir()
    return path, make_imdb_archive(path)


def _load(server, cache: Path, data: bytes, path: str = "/aclImdb_v1.tar.gz", sha: str | None = None):
    return load_sentiment(
        "imdb", seed=0, cache_dir=cache, url=server.url(path), sha256=sha or _sha(data), progress=False
    )


# ---------------------------------------------------------------- the IMDB loader


def test_imdb_loads_texts_and_labels_and_uses_the_cache_afterwards(tmp_path, archive):
    _, data = archive
    cache = tmp_path / "cache"
    with serving({"/aclImdb_v1.tar.gz": data}) as server:
        first = _load(server, cache, data)
        assert server.requests == ["/aclImdb_v1.tar.gz"]
        url = server.url("/aclImdb_v1.tar.gz")

    def rows(*splits):
        return {(t, int(y), k) for s in splits for t, y, k in zip(s.texts, s.labels, s.topics)}

    # <br /> → space; "Loved film 3" conflicts with a negative copy and is dropped; unsup never appears.
    train_expected = {
        (f"Loved film {i}.  Would watch again.", 1, "train/pos") for i in range(10) if i != 3
    } | {(f"Hated film {i}. Dull.", 0, "train/neg") for i in range(10)}
    test_expected = {(f"Great test movie {i} !", 1, "test/pos") for i in range(4)} | {
        (f"Awful test movie {i}", 0, "test/neg") for i in range(4)
    }
    assert rows(first.train, first.val) == train_expected
    assert rows(first.test) == test_expected
    assert (len(first.train), len(first.val), len(first.test)) == (17, 2, 8)
    assert set(first.val.labels.tolist()) == {0, 1}  # stratified
    assert first.report.conflicting_texts == 1 and first.report.conflict_rows_dropped == 2
    assert first.report.texts_kept == len(IMDB_REVIEWS) - 2

    on_disk = files_under(cache)
    assert not any("unsup" in p or p.endswith(".part") for p in on_disk)
    assert all(UNSUP_TEXT not in t for s in first.splits().values() for t in s.texts)

    # Server stopped: the second call must not need the network.
    second = load_sentiment("imdb", seed=0, cache_dir=cache, url=url, sha256=_sha(data), progress=False)
    assert second.train.texts == first.train.texts and second.test.texts == first.test.texts


def test_imdb_cache_dir_from_environment(tmp_path, archive, monkeypatch):
    _, data = archive
    monkeypatch.setenv("RNNBOOK_DATA_DIR", str(tmp_path / "env-cache"))
    with serving({"/aclImdb_v1.tar.gz": data}) as server:
        load_sentiment("imdb", url=server.url("/aclImdb_v1.tar.gz"), sha256=_sha(data), progress=False)
    assert (tmp_path / "env-cache" / "aclImdb_v1.tar.gz").is_file()


def test_imdb_with_wrong_checksum_leaves_nothing_in_the_cache(tmp_path, archive):
    _, data = archive
    cache = tmp_path / "cache"
    wrong = "ab" * 32
    with serving({"/aclImdb_v1.tar.gz": data}) as server, pytest.raises(ChecksumError) as info:
        _load(server, cache, data, sha=wrong)
    assert wrong in str(info.value) and _sha(data) in str(info.value)
    assert files_under(cache) == []


def test_imdb_archive_with_escaping_member_is_refused_and_nothing_extracted(tmp_path):
    src = tmp_path / "evil.tar.gz"
    data = make_imdb_archive(src, extra=[file_member("aclImdb/../../escaped.txt")])
    cache = tmp_path / "cache"
    with serving({"/aclImdb_v1.tar.gz": data}) as server, pytest.raises(ValueError, match=r"aclImdb/\.\./\.\./escaped\.txt"):
        _load(server, cache, data)
    assert not (tmp_path / "escaped.txt").exists() and not (cache.parent / "escaped.txt").exists()
    # The verified archive may stay (it is whole); no extracted or temporary folder may.
    assert files_under(cache) == ["aclImdb_v1.tar.gz"]


def test_interrupted_transfer_raises_and_leaves_no_partial_file(tmp_path, archive):
    _, data = archive
    cache = tmp_path / "cache"
    with serving({"/aclImdb_v1.tar.gz": data}) as server, pytest.raises(DownloadError, match="interrupted"):
        _load(server, cache, data, path="/truncated/aclImdb_v1.tar.gz")
    assert files_under(cache) == []


def test_cut_transfer_without_length_is_caught_by_the_checksum(tmp_path, archive):
    _, data = archive
    dest = tmp_path / "cache" / "a.tar.gz"
    with serving({"/a.tar.gz": data}) as server, pytest.raises(ChecksumError):
        download(server.url("/no-length/a.tar.gz"), dest, _sha(data), progress=False)
    assert files_under(dest.parent) == []


def test_connection_refused_says_no_network_and_what_to_do(tmp_path):
    cache = tmp_path / "cache"
    url = f"http://127.0.0.1:{closed_port()}/aclImdb_v1.tar.gz"
    with pytest.raises(DownloadError) as info:
        load_sentiment("imdb", cache_dir=cache, url=url, sha256="cd" * 32, progress=False)
    message = str(info.value)
    assert url in message and "internet" in message and "Colab" in message
    assert str(cache / "aclImdb_v1.tar.gz") in message  # where to put the file by hand
    assert isinstance(info.value, RuntimeError)
    assert files_under(cache) == []


def test_http_error_is_reported_with_its_status(tmp_path):
    with serving({}) as server, pytest.raises(DownloadError, match="404"):
        download(server.url("/missing.tar.gz"), tmp_path / "m.tar.gz", "ef" * 32, progress=False)
    assert files_under(tmp_path) == []


# ---------------------------------------------------------------- download()


def test_download_skips_a_file_already_verified(tmp_path, archive):
    _, data = archive
    dest = tmp_path / "dl" / "a.tar.gz"
    with serving({"/a.tar.gz": data}) as server:
        assert download(server.url("/a.tar.gz"), dest, _sha(data), progress=False) == dest
        assert download(server.url("/a.tar.gz"), dest, _sha(data), progress=False) == dest
        assert server.requests == ["/a.tar.gz"]
    assert dest.read_bytes() == data


def test_download_replaces_a_corrupt_file(tmp_path, archive):
    _, data = archive
    dest = tmp_path / "a.tar.gz"
    dest.write_bytes(b"half a file")
    with serving({"/a.tar.gz": data}) as server:
        download(server.url("/a.tar.gz"), dest, _sha(data), progress=False)
    assert dest.read_bytes() == data


def test_keyboard_interrupt_mid_download_removes_the_temporary_file(tmp_path, monkeypatch):
    class Response(io.BytesIO):
        headers = {"Content-Length": "4096"}
        reads = 0

        def read(self, n=-1):
            Response.reads += 1
            if Response.reads > 1:
                raise KeyboardInterrupt
            return super().read(1024)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Response(b"x" * 4096))
    with pytest.raises(KeyboardInterrupt):
        download("http://127.0.0.1/x.bin", tmp_path / "x.bin", "00" * 32, progress=False)
    assert Response.reads == 2  # it was interrupted mid-stream, after writing a chunk
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"url": "ftp://example.org/x"}, "url"),
        ({"sha256": "123"}, "sha256"),
        ({"size": 0}, "size"),
        ({"timeout": -1}, "timeout"),
    ],
)
def test_download_validates_its_arguments(tmp_path, kwargs, argument):
    args = {"url": "http://127.0.0.1/x", "dest": tmp_path / "x", "sha256": "00" * 32} | kwargs
    with pytest.raises(ValueError, match=argument):
        download(**args)


# ---------------------------------------------------------------- safe_extract()


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (file_member("../outside.txt"), "'..'"),
        (file_member("aclImdb/../../outside.txt"), "'..'"),
        (file_member("/tmp/absolute.txt"), "absolute"),
        (link_member("aclImdb/link", "/etc/passwd"), "links"),
        (link_member("aclImdb/inside-link", "README"), "links"),  # even a link that stays inside
        (link_member("aclImdb/hard", "aclImdb/README", hard=True), "links"),
        (device_member("aclImdb/dev"), "device"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-in", "hardlink", "device"],
)
def test_safe_extract_refuses_unsafe_members_and_leaves_nothing(tmp_path, member, why):
    src = tmp_path / "a.tar.gz"
    make_imdb_archive(src, extra=[member])
    work = tmp_path / "work"
    work.mkdir()
    target = work / "out"
    with pytest.raises(ValueError) as info:
        safe_extract(src, target)
    assert repr(member.name) in str(info.value) and why in str(info.value)
    # The good members came first and were written to the temporary folder; it must be gone.
    assert files_under(work) == []
    assert not (tmp_path / "outside.txt").exists() and not Path("/tmp/absolute.txt").exists()


def test_safe_extract_writes_everything_but_skipped_paths(tmp_path):
    src = tmp_path / "a.tar.gz"
    make_imdb_archive(src)
    target = safe_extract(src, tmp_path / "out", skip=["aclImdb/train/unsup"])
    written = files_under(target)
    assert "aclImdb/README" in written and "aclImdb/train/pos/0_7.txt" in written
    assert not any("unsup" in p for p in written)
    assert (target / "aclImdb/train/neg/0_1.txt").read_text() == "Hated film 0.<br/>Dull."
    with pytest.raises(FileExistsError):
        safe_extract(src, target)


def test_safe_extract_refuses_a_symlink_even_in_a_skipped_folder(tmp_path):
    src = tmp_path / "a.tar.gz"
    make_imdb_archive(src, extra=[link_member("aclImdb/train/unsup/x", "/etc/passwd")])
    with pytest.raises(ValueError, match="links"):
        safe_extract(src, tmp_path / "out", skip=["aclImdb/train/unsup"])
    assert not (tmp_path / "out").exists()


def test_safe_extract_validates_skip():
    with pytest.raises(ValueError, match="skip"):
        safe_extract("a.tar.gz", "out", skip="aclImdb/train/unsup")


# ---------------------------------------------------------------- the cache folder


def test_resolve_cache_dir_order(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_DATA_DIR", str(tmp_path / "env"))
    assert resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_cache_dir() == tmp_path / "env"
    monkeypatch.delenv("RNNBOOK_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_cache_dir() == tmp_path / "home" / ".cache" / "rnnbook"


def test_tar_fixture_really_contains_the_unsafe_member(tmp_path):
    # Guards the fixtures: the refusals above must come from the member, not from a broken archive.
    src = tmp_path / "a.tar.gz"
    make_imdb_archive(src, extra=[link_member("aclImdb/link", "/etc/passwd")])
    with tarfile.open(src) as tar:
        link = tar.getmember("aclImdb/link")
    assert link.issym() and link.linkname == "/etc/passwd"
