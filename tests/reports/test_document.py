"""The document writers (blockline.reports.document): Word and PDF read back, and a file is written whole or not at all."""  # noqa: E501 - a literal (SQL, JavaScript, a table row, a sentence) kept whole on one line

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import docx
import pytest

from blockline.reports.document import Cover, Document, Section, Table, write_document
from blockline.reports.papers import national
from geo.errors import InputError

DOC = Document(
    "闲置土地认定书（草稿）",
    Cover("温州市自然资源和规划局", dt.date(2026, 11, 22), "李工"),
    (Section("一、宗地", ("宗地面积 15.00 亩。",), Table(("项目", "内容"), [("宗地编号", "A-1")])),),
    addressee="温州甲机械有限公司：",
)


def test_word_and_pdf_carry_the_cover_the_prose_and_the_table(tmp_path: Path) -> None:
    word = docx.Document(str(write_document(DOC, tmp_path / "a.docx")))
    paragraphs = [p.text for p in word.paragraphs]
    assert paragraphs[:4] == ["温州市自然资源和规划局", "〔    〕    号", "日期：2026-11-22", "经办人：李工"]
    assert "闲置土地认定书（草稿）" in paragraphs and "宗地面积 15.00 亩。" in paragraphs
    assert [c.text for c in word.tables[0].rows[1].cells] == ["宗地编号", "A-1"]
    pdf = write_document(DOC, tmp_path / "a.PDF")  # the suffix in any case
    text = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    for s in ("温州市自然资源和规划局", "2026-11-22", "李工", "闲置土地认定书", "宗地面积 15.00 亩", "A-1"):
        assert s in text
    assert oct(pdf.stat().st_mode & 0o077) != "0o0"  # an ordinary file, not a private temporary one


@pytest.mark.parametrize("name", ["a.txt", "a", "a.doc"])
def test_other_suffixes_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match=r"\.docx 或 \.pdf"):
        write_document(DOC, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_writing_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.pdf"
    target.write_bytes(b"the old file")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("blockline.reports.document.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_document(DOC, target)
    assert target.read_bytes() == b"the old file" and [p.name for p in tmp_path.iterdir()] == ["a.pdf"]


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="输出文件夹不存在"):
        write_document(DOC, tmp_path / "no" / "a.docx")


def test_the_national_rules_are_the_decree_s() -> None:
    # 闲置土地处置办法 第十四条: 百分之二十 of the price after one year; taken back after two years
    assert national("idle.fee_share")["value"] == 0.2 and "第十四条" in national("idle.fee_share")["article"]
    assert national("idle.reclaim")["value"] == 2
    assert (
        national("idle.notice_reply_days")["value"] == 30
        and "第九条" in national("idle.notice_reply_days")["article"]
    )
