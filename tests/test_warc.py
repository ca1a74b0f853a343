"""WARC writing and reading: records, rotation, .open files, broken spots."""

from __future__ import annotations

import gzip

from warcio.archiveiterator import ArchiveIterator

from archive.warc.files import list_warc_files
from archive.warc.reader import iter_records
from archive.warc.writer import WarcWriter
from tests.helpers.warc import exchange


def test_round_trip_keeps_headers_status_line_and_request(tmp_path):
    writer = WarcWriter(tmp_path, warcinfo={"operator": "tests"})
    response_id = writer.write_exchange(exchange(1)).record_id
    assert writer.current_path.name.endswith(".warc.gz.open")
    (path,) = writer.close()
    assert path.name.endswith(".warc.gz") and list_warc_files(tmp_path) == [path]
    records = list(iter_records(path))
    assert [r.type for r in records] == ["warcinfo", "response", "request"]
    info, response, request = records
    assert b"operator: tests" in info.payload and b"format: WARC File Format 1.1" in info.payload
    assert response.record_id == response_id and response.status == 200
    assert [v for k, v in response.http_headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.headers["WARC-IP-Address"] == "127.0.0.1"
    assert request.headers["WARC-Concurrent-To"] == response_id
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, check_digests="raise"):
            if record.rec_type == "response":
                assert record.http_headers.statusline == "200 OK"
                assert record.http_headers.protocol == "HTTP/1.1"
            if record.rec_type == "request":
                assert record.http_headers.protocol == "GET" and "/page?n=1" in record.http_headers.statusline
            record.content_stream().read()


def test_rotation_at_max_size(tmp_path):
    writer = WarcWriter(tmp_path, max_size=3000)
    for n in range(10):
        writer.write_exchange(exchange(n, body=b"x" * 2000))
    files = writer.close()
    assert len(files) >= 3 and len(set(files)) == len(files)
    assert sum(1 for p in files for r in iter_records(p) if r.type == "response") == 10
    assert all(next(iter(iter_records(p))).type == "warcinfo" for p in files)


def test_open_file_is_readable_up_to_its_last_whole_record(tmp_path):
    writer = WarcWriter(tmp_path)
    for n in range(3):
        writer.write_exchange(exchange(n))
    path = writer.current_path  # never closed, as after SIGKILL
    with open(path, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00partial")  # a record cut short
    errors = []
    responses = [r for r in iter_records(path, errors=errors) if r.type == "response"]
    assert len(responses) == 3
    assert len(errors) == 1 and errors[0].offset == path.stat().st_size - len(b"\x1f\x8b\x08\x00partial")


def test_reading_from_an_offset(tmp_path):
    writer = WarcWriter(tmp_path)
    for n in range(3):
        writer.write_exchange(exchange(n))
    (path,) = writer.close()
    records = list(iter_records(path))
    later = list(iter_records(path, records[3].offset))
    assert [r.record_id for r in later] == [r.record_id for r in records[3:]]


def test_a_file_that_is_not_a_warc_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "notes.warc.gz"
    path.write_bytes(b"this is not a WARC file at all\n" * 10)
    errors = []
    assert list(iter_records(path, errors=errors)) == []
    assert errors and errors[0].offset == 0


def test_a_corrupt_record_in_the_middle_does_not_hide_the_rest(tmp_path):
    writer = WarcWriter(tmp_path)
    for n in range(6):
        writer.write_exchange(exchange(n, body=f"<html>page {n}</html>".encode() * 50))
    (path,) = writer.close()
    records = list(iter_records(path))
    victim = records[5]  # the third response
    data = bytearray(path.read_bytes())
    middle = victim.offset + victim.length // 2
    data[middle : middle + 40] = b"\x00" * 40
    path.write_bytes(bytes(data))
    errors = []
    urls = [r.url for r in iter_records(path, errors=errors) if r.type == "response"]
    assert len(errors) == 1 and errors[0].offset == victim.offset
    assert victim.url not in urls and len(urls) == 5


def test_an_uncompressed_warc_reads_whole_without_errors(tmp_path):
    writer = WarcWriter(tmp_path)
    for n in range(3):
        writer.write_exchange(exchange(n))
    (closed,) = writer.close()
    plain = tmp_path / "plain.warc"
    plain.write_bytes(gzip.decompress(closed.read_bytes()))
    errors = []
    records = list(iter_records(plain, errors=errors))
    assert errors == []
    assert [r.type for r in records] == [r.type for r in iter_records(closed)]
