import re
from pathlib import Path

import pytest

from routing_rules import normalize

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "seed-article.txt"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("ＡＢＣ１２３", "abc123"),  # full-width letters and digits
        ("土 地\u3000证", "土地证"),  # ASCII and ideographic spaces
        ("發票", "发票"),  # traditional to simplified
        ("發(fā)票", "发票"),  # pinyin gloss after a character
        ("項(xiàng)目備(bèi)案", "项目备案"),
        ("發（fā）展", "发展"),  # full-width brackets become ASCII first
        ("行(hang2)业", "行业"),  # tone digits
        ("有限公司(LTD)", "有限公司(ltd)"),  # a bracketed word without tones is not a gloss
        ("(fā)开头", "(fā)开头"),  # a gloss needs a Han character before it
        ("贷\x00款", "贷款"),  # control characters dropped
        ("\ud800贷款", "贷款"),  # a lone surrogate from broken input
        ("", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_idempotent_on_its_output():
    text = "項(xiàng)目 ＳＣ認證　發(fā)票"
    once = normalize(text)
    assert normalize(once) == once == "项目sc认证,发票"  # the space after 認證 is a pause (below)


@pytest.mark.parametrize(
    "raw, expected",
    [
        # a voice message's transcript: spaces where the speaker paused, between words
        ("俺是老杨 施工许可证昨天办下来了 谢谢住建那边 呃 现在要进场", "俺是老杨,施工许可证昨天办下来了,谢谢住建那边,呃,现在要进场"),
        ("土 地 证", "土地证"),  # single characters typed apart are one word
        ("ISO 9001 认证", "iso9001认证"),  # only between Chinese characters
        ("营业执照\n\n变更", "营业执照变更"),  # a line break is no pause: it goes, as before
    ],
)
def test_a_space_between_chinese_words_is_a_pause(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared/reference not beside the checkout")
def test_seed_article_loses_every_gloss():
    raw = REFERENCE.read_text(encoding="utf-8")
    assert re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔù]+\)", raw)  # the article does carry glosses
    text = normalize(raw)
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùü1-5]+\)", text)
    assert "(记者,谢晓龙,通讯员,丁泉洋)" in text  # an ordinary bracket stays (its spaces are pauses)
    assert "项目为王" in text and "发改委" in text
