"""taxi_platform.redaction: one redaction and one length cap for every text the platform emits."""

import gzip

import pytest

from taxi_platform.redaction import cap_text, redact_text, redact_url, register_secret, safe_message


def test_messages_quoting_data_are_capped():
    """A message quoting a whole bad file stays readable: its head, then how much more there was."""
    from taxi_platform.sources import CorruptFileError

    error = CorruptFileError("yellow 2021-01: bad header: " + "\x00" * 328_000)
    assert len(str(error)) < 2100
    assert str(error).startswith("yellow 2021-01: bad header: ")
    assert str(error).endswith("[... 326028 more characters; 328028 in all]")


def test_redact_text_everywhere_in_a_text():
    from taxi_platform.redaction import redact_text, register_secret

    assert redact_text("x https://u:p@h/a?secret=S&password=P y") == "x https://h/a?<redacted> y"
    assert redact_text("GET /a.parquet?sig=1&X-Goog-Signature=2 failed") == "GET /a.parquet?<redacted> failed"
    assert redact_text("password=P token: T \"private_key\": \"K\" Authorization: Bearer abc.def") == (
        "password=<redacted> token: <redacted> \"private_key\": \"<redacted>\" Authorization: <redacted>")
    assert redact_text("-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----") == "<redacted>"
    register_secret("/home/someone/very-secret-dir/key.json")
    assert redact_text("opened /home/someone/very-secret-dir/key.json: no") == "opened <redacted>: no"
    # ordinary words stay
    assert redact_text("partition key 2021-01, run_key=monthly_revenue:2021-01") == (
        "partition key 2021-01, run_key=monthly_revenue:2021-01")


def test_control_characters_are_shown_escaped():
    assert safe_message("bad header: \x00\x00\x1b[31m ok\tand\nnext") == "bad header: \\x00\\x00\\x1b[31m ok\tand\nnext"


def test_a_gzip_csv_of_nul_bytes_gives_a_short_error(tmp_path):
    """The course CSV path with a gzip "CSV" of NUL bytes: once a 328,080-character message; now the head and size."""
    from taxi_platform.sources import CorruptFileError
    from taxi_platform.sources.csv_backup import csv_to_parquet

    source = tmp_path / "green_tripdata_2021-01.csv.gz"
    source.write_bytes(gzip.compress(b"\0" * 400_000))
    with pytest.raises(CorruptFileError) as info:
        csv_to_parquet([source], tmp_path / "out.parquet", "green", describe="green 2021-01", wheres=["https://h/g.csv.gz"])
    message = str(info.value)
    assert message.startswith("green 2021-01: https://h/g.csv.gz ")
    assert len(message) < 2200 and message.endswith(" in all]"), message[-200:]
    assert not (tmp_path / "out.parquet").exists()


def test_cap_text():
    assert cap_text("abc", 3) == "abc"
    assert cap_text("abcdef", 3) == "abc [... 3 more characters; 6 in all]"


def test_redact_url_keeps_paths():
    assert redact_url("/data/raw/yellow/2021/01") == "/data/raw/yellow/2021/01"


def test_log_lines_of_the_source_modules_are_redacted(caplog):
    import logging

    import taxi_platform.sources.download  # noqa: F401 (attaches the filter)

    with caplog.at_level(logging.INFO, logger="taxi_platform.sources.download"):
        logging.getLogger("taxi_platform.sources.download").info("fetching %s", "https://u:pw-9@h/x.parquet?X-Amz-Signature=abc123")
    assert [r.getMessage() for r in caplog.records] == ["fetching https://h/x.parquet?<redacted>"]
