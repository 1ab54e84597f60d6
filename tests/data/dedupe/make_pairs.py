#!/usr/bin/env python3
"""Generates the duplicate check's benchmark (issue #25): a registry of households the way a
mountain district of Lạng Sơn has them, and labelled pairs made from it by a documented model of
how clerks type. Deterministic (fixed seed): `python3 make_pairs.py [DIR]` writes population.csv and pairs.csv
(into DIR, by default beside this file) byte for byte the same every time; a test regenerates them
into a temporary folder and compares them with the committed ones.

THE POPULATION (population.csv, 24,000 households over 6 communes of Bình Gia, 8 villages each)
- Ethnic mix of Bình Gia's poor households: Tày 62 %, Nùng 16 %, Dao 12 %, Kinh 6 %, H'Mông 4 %.
- Each group has its own family names, middle names and given names, drawn with Zipf-like
  frequencies (the first of a list is the most common: Hoàng, Nông, Lương…; Văn, Thị).
  Dao and H'Mông names carry their own given names (Pảo, Lìn, Chòi, Mỷ, Sính…) which are rare in
  the district; 7 % of names have no middle name (two words), 4 % two middle words.
- Birth years 1940–2002 (most 1955–1990), gender by the middle name's custom.
- 40 % of registry records carry a CCCD (valid for Lạng Sơn: 020, century/gender digit, year),
  10 % an old CMND, 70 % a household code unique in its commune.
- The registry's spelling: 60 % of clerks place tone marks in the old way (hòa, thủy), 40 % in
  the new way (hoà, thuỷ); village names are written with or without "Thôn"/"Bản".

THE PAIRS (pairs.csv): record A is a registry household; record B is typed for the same or for
another household. Columns: half (fit | holdout: a coin per pair), kind, same (1/0), then
commune, village, name, birth year, gender, CCCD, CMND, household code of A and of B.
Record B carries no identity number except in the kinds about it (a new entry usually lacks one),
and as background its birth year is left blank 8 % of the time and its gender 10 %.

True duplicates (same=1), 800 pairs of each kind — the corruption model:
- tone_placement: the name in the other tone placement (hòa ↔ hoà, thủy ↔ thuỷ, khỏe ↔ khoẻ);
  drawn among names having such a syllable.
- nfd: the name pasted decomposed (NFD), as phones and PDFs give it.
- mark_missing: one mark missing on one syllable (a tone, or a vowel's hat, hook or breve),
  the rest written with its marks.
- mark_wrong: one syllable's tone replaced by a neighbour tone (hỏi ↔ ngã, sắc ↔ nặng,
  huyền ↔ level) or its vowel mark by another (â ↔ ă, ô ↔ ơ).
- no_marks: every mark left out ("Hoang Van Thu").
- d_for_dd: Đ typed as D, the rest keeping its marks (among names with đ).
- telex: one word typed with the input method off, in Telex ("Hoangf", "Vawn", "DDuwcs").
- vni: one word typed with VNI digits left in ("Hoa2ng", "Thu5").
- letter_slip: one letter dropped, doubled, swapped with its neighbour or replaced by a
  neighbouring key, in one word.
- middle_dropped: the middle name left out (among three-word names).
- middle_added: "Văn" or "Thị" added (among two-word names).
- swapped_order: the given name written first ("Thụ Hoàng Văn").
- birth_year_off: the birth year one year off.
- cccd_mangled: the registry has the CCCD; B's lost its leading 0 to Excel (11 digits) half the
  time, is left blank the other half.
- village_prefix: the village written with or without its "Thôn"/"Bản", in another case.

Different households (same=0), 1,200 pairs of each kind:
- namesake_same_village: another household of the same village with the same name (two
  people really named alike; birth year, gender independent of A's).
- namesake_same_commune: the same name in another village of the commune.
- close_given_marks: same family and middle name, a given name that differs only by its marks
  and is another name (Lan/Lân, Hùng/Hưng, Thu/Thư), same village.
- close_given_ending: same family and middle name, a given name with another ending
  (Thu/Thuận, Nga/Ngân, Hà/Hải), same village.
- other_given: same family and middle name, another given name, same village.
- relatives: same family name, same village, another middle or given name, born 18-35 years
  apart (a parent and a grown child).
- different_cccd: the same name and village, both with a valid CCCD, the numbers different.
- other_gender: the same family and given name, the middle name of the other gender
  (Hoàng Văn Thu / Hoàng Thị Thu), same village.
"""
import csv
import os
import random
import sys
import unicodedata

HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
os.makedirs(HERE, exist_ok=True)
R = random.Random(25)

COMMUNES = [("06073", "Xã Hoa Thám"), ("06076", "Xã Quý Hòa"), ("06079", "Xã Hồng Phong"),
            ("06085", "Xã Yên Lỗ"), ("06091", "Xã Thiện Thuật"), ("06100", "Xã Tân Văn")]
VILLAGES = ["Nà Pàn", "Khuổi Ngọa", "Pác Khuông", "Bản Cáu", "Nà Lèng", "Khòn Khinh", "Cốc Phường",
            "Nà Tồng", "Khau Phạ", "Pò Đồn", "Nà Thuộc", "Pác Mỏ", "Kéo Coóc", "Nà Hoà", "Lũng Phầy",
            "Khuổi Luông", "Bó Khiếc", "Nà Pe", "Pác Pẻn", "Tà Thủy", "Nà Đon", "Cò Luông",
            "Nà Lạn", "Khuổi Đẩy", "Bản Piềng", "Pác Pầu", "Nà Rại", "Lũng Đẩy", "Phiêng Cầu",
            "Pò Nhùng", "Nà Cà", "Khuổi Tát", "Bản Chu", "Nà Mìn", "Đông Đăm", "Nà Khoang",
            "Pác Rạc", "Vằng Khít", "Nà Nưa", "Khuổi Khoang", "Bản Hẩu", "Nà Tẳng", "Pác Giao",
            "Khuổi Mòn", "Nà Piệt", "Cốc Lùng", "Bản Nùng", "Nà Lùng"]

SURNAMES = {
    "tay": ["Hoàng", "Nông", "Lương", "Lăng", "Hà", "Vi", "Lộc", "Mông", "Chu", "Hứa", "Triệu",
            "Lành", "Lâm", "Dương", "Đàm", "Bế", "Ma", "Tô", "Đinh", "Nguyễn", "Lý", "Sầm",
            "Quách"],
    "nung": ["Hoàng", "Nông", "Lương", "Chu", "Lý", "Vi", "Lô", "Mã", "Lục", "Hứa", "Đàm",
             "Sầm", "Giáp", "Lăng", "Lưu"],
    "dao": ["Triệu", "Bàn", "Đặng", "Lý", "Phùng", "Chảo", "Tẩn", "Bàn", "Hoàng"],
    "kinh": ["Nguyễn", "Trần", "Lê", "Phạm", "Vũ", "Đỗ", "Bùi", "Đinh", "Ngô", "Đặng",
             "Hoàng", "Dương", "Đoàn"],
    "hmong": ["Giàng", "Vàng", "Thào", "Lý", "Sùng", "Hầu", "Mua", "Lầu", "Hạng", "Cháng"],
}
MIDDLE = {
    ("tay", "m"): ["Văn", "Đức", "Minh", "Quang", "Tiến", "Xuân", "Hữu", "Thanh"],
    ("tay", "f"): ["Thị", "Thu", "Ngọc", "Thanh"],
    ("nung", "m"): ["Văn", "Đức", "Minh", "Quang", "Hữu"],
    ("nung", "f"): ["Thị", "Thu"],
    ("dao", "m"): ["Văn", "Tòn", "Phù", "Quý", "Chòi", "Kiềm"],
    ("dao", "f"): ["Thị", "Mùi", "Nhì"],
    ("kinh", "m"): ["Văn", "Đức", "Minh", "Quang", "Hữu", "Đình", "Xuân", "Công"],
    ("kinh", "f"): ["Thị", "Thu", "Ngọc", "Thanh", "Thùy"],
    ("hmong", "m"): ["A", "Mí", "Seo", "Chứ", "Văn"],
    ("hmong", "f"): ["Thị", "Mỷ", "Thị"],
}
GIVEN = {
    ("tay", "m"): ["Hùng", "Dũng", "Thắng", "Sơn", "Tuấn", "Cường", "Khánh", "Phúc", "Chiến",
                   "Bình", "Quý", "Sinh", "Toàn", "Hải", "Long", "Thụ", "Hòa", "Thủy", "Đoàn",
                   "Thành", "Lợi", "Tâm", "Đức", "Hưng", "Thu", "Khoa", "Thỏa", "Hóa", "Lũy",
                   "Slao", "Pác", "Pò", "Khẩu", "Quỳnh", "Tuyển", "Nhất", "Đồng", "Hiệu"],
    ("tay", "f"): ["Lan", "Hoa", "Mai", "Tâm", "Hạnh", "Nga", "Vân", "Liên", "Hiền", "Thơm",
                   "Nhung", "Duyên", "Phượng", "Xuân", "Hằng", "Thủy", "Thúy", "Hòa", "Loan",
                   "Huệ", "Hương", "Lụa", "Mẩy", "Thư", "Lân", "Nhụy", "Khỏe", "Thoa", "Đào",
                   "Ngân", "Hà", "Dịu", "Slam", "Nhàn"],
    ("nung", "m"): ["Hùng", "Dũng", "Thắng", "Sơn", "Cường", "Phúc", "Chiến", "Quý", "Lìn",
                    "Sáng", "Hòa", "Thủy", "Đoàn", "Pảo", "Sính", "Voòng", "Lù"],
    ("nung", "f"): ["Lan", "Mai", "Tâm", "Nga", "Vân", "Thơm", "Hằng", "Thủy", "Thúy", "Hòa",
                    "Lìu", "Mẩy", "Slìn", "Thu", "Nhụy"],
    ("dao", "m"): ["Pảo", "Lìn", "Chòi", "Kiềm", "Sài", "Quẩy", "Dín", "Tả", "Vần", "Phẩu",
                   "Sơn", "Hùng", "Thắng", "Đạo"],
    ("dao", "f"): ["Mỷ", "Nải", "Sểnh", "Mẩy", "Dinh", "Chài", "Tá", "Lai", "Mai"],
    ("kinh", "m"): ["Hùng", "Dũng", "Tuấn", "Nam", "Đức", "Hải", "Sơn", "Cường", "Thành",
                    "Hoàng", "Hòa", "Thủy", "Khoa", "Đạt", "Quân"],
    ("kinh", "f"): ["Lan", "Hoa", "Hương", "Hạnh", "Nga", "Thủy", "Thúy", "Hòa", "Loan",
                    "Ngân", "Trang", "Huyền", "Thư", "Khỏe"],
    ("hmong", "m"): ["Pảo", "Sính", "Chứ", "Dế", "Páo", "Sử", "Chá", "Lử", "Vư"],
    ("hmong", "f"): ["Mỷ", "Dợ", "Say", "Pà", "Máy", "Sua", "Chơ"],
}
ETHNIC = [("tay", 62), ("nung", 16), ("dao", 12), ("kinh", 6), ("hmong", 4)]
# Another name a given name is confused with: differing only by marks, or by its ending.
BY_MARKS = {"Lan": "Lân", "Lân": "Lan", "Hùng": "Hưng", "Hưng": "Hùng", "Thu": "Thư",
            "Thư": "Thu", "Hòa": "Hoa", "Hoa": "Hòa", "Tâm": "Tám", "Mai": "Mại", "Sơn": "Sờn",
            "Vân": "Văn", "Thủy": "Thùy", "Thúy": "Thủy", "Nga": "Ngà", "Hà": "Hạ", "Long": "Lòng",
            "Loan": "Loàn", "Thắng": "Thăng", "Quý": "Quy", "Lìn": "Lin", "Pảo": "Páo",
            "Páo": "Pảo", "Mỷ": "My", "Hằng": "Hàng", "Đào": "Đạo", "Đạo": "Đào", "Dũng": "Dung",
            "Phúc": "Phục", "Hương": "Hường", "Thơm": "Thớm", "Sinh": "Sính", "Sính": "Sinh",
            "Khánh": "Khanh", "Bình": "Bính", "Toàn": "Toán", "Hải": "Hại", "Cường": "Cương"}
BY_ENDING = {"Thu": "Thuận", "Nga": "Ngân", "Ngân": "Nga", "Hà": "Hải", "Hải": "Hà",
             "Lan": "Lành", "Hoa": "Hoan", "Vân": "Vâng", "Thủy": "Thủ", "Lìn": "Lì",
             "Pảo": "Pả", "Tả": "Tản", "Chá": "Chánh", "Phúc": "Phú", "Khánh": "Khá",
             "Nhung": "Nhu", "Hạnh": "Hạ", "Chài": "Chà", "Say": "Sa", "Mai": "Mạnh",
             "Thơm": "Thơ", "Hiền": "Hiến", "Liên": "Liễu", "Xuân": "Xuyến", "Hằng": "Hương",
             "Tâm": "Tấn", "Long": "Lương", "Thư": "Thương", "Lợi": "Lộc", "Loan": "Loa",
             "Mỷ": "Mỹ", "Sơn": "Sơ"}
BY_ENDING = {k: v for k, v in BY_ENDING.items() if v != k}

TONE = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
VNI_TONE = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
VOWEL_MARKS = {"\u0302", "\u0306", "\u031b"}
KEY_NEIGHBOURS = {"a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "g": "fh", "h": "gj",
                  "i": "uo", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
                  "q": "w", "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "x": "zc",
                  "y": "tu"}


def nfc(s):
    return unicodedata.normalize("NFC", s)


def nfd(s):
    return unicodedata.normalize("NFD", s)


def zipf(items, rng=R):
    weights = [1.0 / (i + 1) ** 1.1 for i in range(len(items))]
    return rng.choices(items, weights)[0]


def place_tone(word, new_style):
    """Put the tone of an open oa/oe/uy syllable on the first (old) or second (new) vowel."""
    d = nfd(word)
    tones = [c for c in d if c in TONE]
    if len(tones) != 1:
        return word
    bare = [c for c in d if c not in TONE]
    low = "".join(bare).lower()
    for pair in ("oa", "oe", "uy"):
        if low.endswith(pair) and not low.endswith("qu" + pair[1:]) and not (pair == "uy" and low.endswith("quy")):
            i = len(bare) - 2 if not new_style else len(bare) - 1
            # the vowel's own marks come right after it
            bare.insert(i + 1, tones[0])
            return nfc("".join(bare))
    return word


def has_placement_choice(word):
    return place_tone(word, True) != place_tone(word, False)


def style(name, new_style):
    return " ".join(place_tone(w, new_style) for w in name.split(" "))


def cccd(birth, gender):
    century = 0 if birth < 2000 else 2
    digit = century + (1 if gender == "f" else 0)
    return "020%d%02d%06d" % (digit, birth % 100, R.randrange(1000000))


def person(rng=R):
    ethnic = rng.choices([e for e, _ in ETHNIC], [w for _, w in ETHNIC])[0]
    g = "f" if rng.random() < 0.45 else "m"
    sur = zipf(SURNAMES[ethnic], rng)
    r = rng.random()
    if r < 0.07:
        mid = []
    elif r < 0.11:
        mid = [zipf(MIDDLE[(ethnic, g)], rng), zipf(MIDDLE[(ethnic, g)], rng)]
        if mid[0] == mid[1]:
            mid = mid[:1]
    else:
        mid = [zipf(MIDDLE[(ethnic, g)], rng)]
    giv = zipf(GIVEN[(ethnic, g)], rng)
    birth = min(2002, max(1940, int(rng.gauss(1972, 12))))
    return {"ethnic": ethnic, "gender": g, "words": [sur] + mid + [giv], "birth": birth}


def render(p, new_style):
    return style(" ".join(p["words"]), new_style)


def village_as_written(v, rng=R):
    r = rng.random()
    if r < 0.5:
        return v
    if v.startswith("Bản "):
        return "Thôn " + v
    if r < 0.85:
        return "Thôn " + v
    return "Bản " + v


# --- the registry -----------------------------------------------------------------------------
households = []
codes = {}
for i in range(24000):
    commune, commune_name = COMMUNES[i % len(COMMUNES)]
    ci = i % len(COMMUNES)
    village = VILLAGES[ci * 8 + R.randrange(8)]
    p = person()
    codes[commune] = codes.get(commune, 0) + 1
    households.append({
        "commune": commune,
        "village_name": village,
        "village": village_as_written(village),
        "name": render(p, R.random() < 0.4),
        "person": p,
        "birth": str(p["birth"]),
        "gender": "female" if p["gender"] == "f" else "male",
        "cccd": cccd(p["birth"], p["gender"]) if R.random() < 0.4 else "",
        "old_id": ("%09d" % R.randrange(10 ** 9)) if R.random() < 0.1 else "",
        "code": ("HN-%s-%05d" % (commune[-3:], codes[commune])) if R.random() < 0.7 else "",
    })

with open(os.path.join(HERE, "population.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["commune", "village", "head_name", "birth_year", "gender", "cccd", "old_id",
                "household_code"])
    for h in households:
        w.writerow([h["commune"], h["village"], h["name"], h["birth"], h["gender"], h["cccd"],
                    h["old_id"], h["code"]])


# --- corruptions ------------------------------------------------------------------------------
def words_of(name):
    return name.split(" ")


def on_one_word(name, fn, pick=None):
    ws = words_of(name)
    idx = [i for i, w in enumerate(ws) if (pick or (lambda w: True))(w)]
    if not idx:
        return None
    i = R.choice(idx)
    new = fn(ws[i])
    if new is None or new == ws[i]:
        return None
    ws[i] = new
    return " ".join(ws)


def drop_one_mark(word):
    d = list(nfd(word))
    marks = [i for i, c in enumerate(d) if c in TONE or c in VOWEL_MARKS]
    if not marks:
        return None
    del d[R.choice(marks)]
    return nfc("".join(d))


def wrong_mark(word):
    d = list(nfd(word))
    swap_tone = {"\u0309": "\u0303", "\u0303": "\u0309", "\u0301": "\u0323", "\u0323": "\u0301",
                 "\u0300": None}
    tones = [i for i, c in enumerate(d) if c in TONE]
    vm = [i for i, c in enumerate(d) if c in ("\u0302", "\u0306")]
    if tones and (not vm or R.random() < 0.7):
        i = tones[0]
        new = swap_tone[d[i]]
        if new is None:
            del d[i]
        else:
            d[i] = new
    elif vm:
        i = vm[0]
        d[i] = "\u0306" if d[i] == "\u0302" else "\u0302"
    else:
        # a level-tone word: give it the huyền a hurried hand adds
        vowels = [i for i, c in enumerate(d) if c.lower() in "aeiouy"]
        if not vowels:
            return None
        d.insert(vowels[-1] + 1, "\u0300")
    return nfc("".join(d))


def strip_marks(s):
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in nfd(s) if unicodedata.category(c) != "Mn")


def telex(word):
    d = nfd(word)
    out = []
    tone = ""
    for c in d:
        if c in TONE:
            tone = TONE[c]
        elif c == "\u0302":
            out.append(out[-1].lower())
        elif c in ("\u0306", "\u031b"):
            out.append("w")
        elif c == "đ":
            out.append("dd")
        elif c == "Đ":
            out.append("DD")
        else:
            out.append(c)
    res = "".join(out) + tone
    return res if res != word else None


def vni(word):
    d = nfd(word)
    out = []
    marks = {"\u0302": "6", "\u031b": "7", "\u0306": "8"}
    at_end = R.random() < 0.5
    tone = ""
    for c in d:
        if c in VNI_TONE:
            if at_end:
                tone = VNI_TONE[c]
            else:
                out.append(VNI_TONE[c])
        elif c in marks:
            out.append(marks[c])
        elif c in "đĐ":
            out.append("d9" if c == "đ" else "D9")
        else:
            out.append(c)
    res = "".join(out) + tone
    return res if res != word and any(ch.isdigit() for ch in res) else None


def slip(word):
    w = list(word)
    if len(w) < 2:
        return None
    op = R.choice(["drop", "double", "swap", "neighbour"])
    i = R.randrange(len(w))
    if op == "drop" and len(w) > 2:
        del w[i]
    elif op == "double":
        w.insert(i, w[i])
    elif op == "swap" and i + 1 < len(w):
        w[i], w[i + 1] = w[i + 1], w[i]
    else:
        base = strip_marks(w[i]).lower()
        if base not in KEY_NEIGHBOURS:
            return None
        w[i] = R.choice(KEY_NEIGHBOURS[base])
    return "".join(w)


def typed_again(h, name=None, birth=None):
    """Record B: the household typed again, name as given, no identity numbers."""
    b = {
        "commune": h["commune"],
        "village": village_as_written(h["village_name"]),
        "name": name if name is not None else h["name"],
        "birth": h["birth"] if birth is None else str(birth),
        "gender": h["gender"],
        "cccd": "", "old_id": "", "code": "",
    }
    if R.random() < 0.08:
        b["birth"] = ""
    if R.random() < 0.10:
        b["gender"] = ""
    return b


def true_pair(kind):
    for _ in range(1000):
        h = R.choice(households)
        name = h["name"]
        if kind == "tone_placement":
            ws = words_of(name)
            if not any(has_placement_choice(w) for w in ws):
                continue
            # each such syllable to the other placement than the one it has
            flipped = " ".join(place_tone(w, place_tone(w, True) != w) for w in ws)
            if flipped == name:
                continue
            return h, typed_again(h, flipped)
        if kind == "nfd":
            return h, typed_again(h, nfd(name))
        if kind == "mark_missing":
            n = on_one_word(name, drop_one_mark)
        elif kind == "mark_wrong":
            n = on_one_word(name, wrong_mark)
        elif kind == "no_marks":
            n = strip_marks(name)
        elif kind == "d_for_dd":
            n = name.replace("Đ", "D").replace("đ", "d") if "đ" in name.lower() else None
        elif kind == "telex":
            n = on_one_word(name, telex, lambda w: strip_marks(w) != w)
        elif kind == "vni":
            n = on_one_word(name, vni, lambda w: strip_marks(w) != w)
        elif kind == "letter_slip":
            n = on_one_word(name, slip)
        elif kind == "middle_dropped":
            ws = words_of(name)
            n = " ".join([ws[0], ws[-1]]) if len(ws) == 3 else None
        elif kind == "middle_added":
            ws = words_of(name)
            n = " ".join([ws[0], "Thị" if h["gender"] == "female" else "Văn", ws[1]]) if len(ws) == 2 else None
        elif kind == "swapped_order":
            ws = words_of(name)
            n = " ".join([ws[-1]] + ws[:-1]) if len(ws) >= 2 else None
        elif kind == "birth_year_off":
            return h, typed_again(h, None, int(h["person"]["birth"]) + R.choice([-1, 1]))
        elif kind == "cccd_mangled":
            if not h["cccd"]:
                continue
            b = typed_again(h)
            b["cccd"] = h["cccd"][1:] if R.random() < 0.5 else ""
            return h, b
        elif kind == "village_prefix":
            b = typed_again(h)
            v = h["village_name"]
            b["village"] = R.choice(["Thôn " + v, v.upper(), "thôn " + v.lower(), v]
                                    + ([] if v.startswith("Bản ") else ["Bản " + v]))
            if b["village"] == h["village"]:
                b["village"] = ("Thôn " + v) if h["village"] == v else v
            return h, b
        else:
            raise ValueError(kind)
        if n is not None and n != name:
            return h, typed_again(h, n)
    raise RuntimeError(kind)


def another(h, words, gender=None, birth=None, village=None):
    p = h["person"]
    g = gender or h["gender"]
    b = {
        "commune": h["commune"],
        "village": village_as_written(village or h["village_name"]),
        "name": style(" ".join(words), R.random() < 0.4),
        "birth": str(birth if birth is not None else person()["birth"]),
        "gender": g,
        "cccd": "", "old_id": "", "code": "",
    }
    if R.random() < 0.08:
        b["birth"] = ""
    if R.random() < 0.10:
        b["gender"] = ""
    return b


def commune_villages(commune):
    ci = [c for c, _ in COMMUNES].index(commune)
    return VILLAGES[ci * 8: ci * 8 + 8]


def false_pair(kind):
    for _ in range(1000):
        h = R.choice(households)
        p = h["person"]
        ws = list(p["words"])
        if kind == "namesake_same_village":
            return h, another(h, ws)
        if kind == "namesake_same_commune":
            others = [v for v in commune_villages(h["commune"]) if v != h["village_name"]]
            return h, another(h, ws, village=R.choice(others))
        if kind == "close_given_marks":
            if ws[-1] not in BY_MARKS:
                continue
            return h, another(h, ws[:-1] + [BY_MARKS[ws[-1]]])
        if kind == "close_given_ending":
            if ws[-1] not in BY_ENDING:
                continue
            return h, another(h, ws[:-1] + [BY_ENDING[ws[-1]]])
        if kind == "other_given":
            q = person()
            if q["words"][-1] == ws[-1] or q["gender"] != p["gender"]:
                continue
            return h, another(h, ws[:-1] + [q["words"][-1]])
        if kind == "relatives":
            q = person()
            if q["words"][1:] == ws[1:]:
                continue
            birth = p["birth"] + R.choice([-1, 1]) * R.randint(18, 35)
            return h, another(h, [ws[0]] + q["words"][1:], gender="female" if q["gender"] == "f" else "male", birth=birth)
        if kind == "different_cccd":
            if len(ws) < 3:
                continue
            a = dict(h)
            g = p["gender"]
            a["cccd"] = h["cccd"] or cccd(p["birth"], g)
            b = another(h, ws)
            if not b["birth"]:
                b["birth"] = str(person()["birth"])
            b["gender"] = h["gender"]
            b["cccd"] = cccd(int(b["birth"]), g)
            return a, b
        if kind == "other_gender":
            if len(ws) != 3 or ws[1] not in ("Văn", "Thị"):
                continue
            flip = "Thị" if ws[1] == "Văn" else "Văn"
            return h, another(h, [ws[0], flip, ws[2]], gender="female" if h["gender"] == "male" else "male")
        raise ValueError(kind)
    raise RuntimeError(kind)


TRUE_KINDS = ["tone_placement", "nfd", "mark_missing", "mark_wrong", "no_marks", "d_for_dd",
              "telex", "vni", "letter_slip", "middle_dropped", "middle_added", "swapped_order",
              "birth_year_off", "cccd_mangled", "village_prefix"]
FALSE_KINDS = ["namesake_same_village", "namesake_same_commune", "close_given_marks",
               "close_given_ending", "other_given", "relatives", "different_cccd", "other_gender"]

rows = []
for kind in TRUE_KINDS:
    for _ in range(800):
        a, b = true_pair(kind)
        rows.append((kind, 1, a, b))
for kind in FALSE_KINDS:
    for _ in range(1200):
        a, b = false_pair(kind)
        rows.append((kind, 0, a, b))

with open(os.path.join(HERE, "pairs.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    cols = ["commune", "village", "name", "birth", "gender", "cccd", "old_id", "code"]
    w.writerow(["half", "kind", "same"] + [c + "_a" for c in cols] + [c + "_b" for c in cols])
    for kind, same, a, b in rows:
        half = "fit" if R.random() < 0.5 else "holdout"
        w.writerow([half, kind, same] + [a[c] for c in cols] + [b[c] for c in cols])
