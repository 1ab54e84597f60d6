#!/usr/bin/env python3
"""Builds name-pairs.csv: labelled pairs of head-of-household records for choosing and checking
the duplicate thresholds (README, "Duplicate household check"). Deterministic (fixed seed).

Same household (same=1): the same name written differently — without diacritics, upper case,
a typo, a missing or extra middle name ("Thị"), swapped order, odd spacing or punctuation — with
the same birth year, one year off, or one unknown.
Different households (same=0): close names (Thu/Thuận, Lan/Lân, Sơn/Sang), same surname and
middle name with another given name, another surname, and namesakes born years apart.

Added for issue #16 (columns gender_a, gender_b, ids; the earlier rows leave them empty), drawn
from a second generator so the earlier rows stay as they were:
- namesakes in one village born the same year whose given names differ by their ending or only
  by their tone marks, both written with marks (Thu/Thuận, Lan/Lân): different;
- the same name, village and year with two different valid CCCDs (ids=different): different;
- the same name, village and year but another gender: different;
- the same person with the village written another way (same_village=1, as village keys now
  compare), the name as typed or with a typo, genders known and equal: same."""
import csv, random, unicodedata

random.seed(2024)
SUR = ["Hoàng", "Nông", "Lương", "Lăng", "Hà", "Vi", "Lộc", "Mông", "Chu", "Hứa", "Lý", "Triệu", "Bàn", "Đặng", "Nguyễn", "Dương"]
MID_M = ["Văn", "Đức", "Minh", "Quang"]
MID_F = ["Thị", "Thu", "Ngọc"]
GIV_M = ["Thụ", "Sơn", "Hùng", "Dũng", "Cường", "Khánh", "Phúc", "Thắng", "Tuấn", "Chiến", "Bình", "Quý", "Sinh", "Toàn", "Hải", "Long"]
GIV_F = ["Lan", "Hoa", "Mai", "Tâm", "Hạnh", "Nga", "Vân", "Liên", "Hiền", "Thơm", "Nhung", "Duyên", "Phượng", "Xuân", "Hằng"]
CLOSE = {"Thu": "Thuận", "Thụ": "Thuận", "Lan": "Lân", "Sơn": "Sang", "Hùng": "Hưng", "Mai": "Mại", "Hải": "Hà",
         "Long": "Lương", "Tâm": "Tám", "Vân": "Văn", "Bình": "Bính", "Hạnh": "Hạ", "Nga": "Ngân", "Dũng": "Dung",
         "Liên": "Liễu", "Toàn": "Toán", "Quý": "Quế", "Khánh": "Khanh", "Xuân": "Xuyến", "Hằng": "Hương"}

def strip(s):
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")

def typo(word):
    w = list(word)
    i = random.randrange(len(w))
    op = random.choice(["drop", "double", "swap"])
    if op == "drop" and len(w) > 2:
        del w[i]
    elif op == "double":
        w.insert(i, w[i])
    elif i + 1 < len(w):
        w[i], w[i + 1] = w[i + 1], w[i]
    return "".join(w)

def person():
    female = random.random() < 0.35
    return (random.choice(SUR), random.choice(MID_F if female else MID_M), random.choice(GIV_F if female else GIV_M),
            random.randint(1945, 1998), female)

def same_birth(y):
    r = random.random()
    return y if r < 0.6 else (y + random.choice([-1, 1]) if r < 0.8 else None)

rows = []
for _ in range(420):
    s, m, g, y, female = person()
    name = f"{s} {m} {g}"
    kind = random.choice(["no_diacritics", "upper", "typo", "missing_middle", "extra_thi", "swapped", "spacing"])
    if kind == "no_diacritics":
        other = strip(name)
    elif kind == "upper":
        other = name.upper()
    elif kind == "typo":
        other = f"{s} {m} {typo(g)}" if random.random() < 0.6 else f"{typo(s)} {m} {g}"
    elif kind == "missing_middle":
        other = f"{s} {g}"
    elif kind == "extra_thi":
        other = f"{s} Thị {g}" if m != "Thị" else f"{s} {g}"
    elif kind == "swapped":
        other = f"{g} {s} {m}"
    else:
        other = f"  {s}  {m}-{g}. "
    if random.random() < 0.3:
        other = strip(other)
    rows.append([name, other, y, same_birth(y), 1, 1, kind])

for _ in range(420):
    s, m, g, y, female = person()
    name = f"{s} {m} {g}"
    kind = random.choice(["close_given", "other_given", "other_surname", "namesake"])
    if kind == "close_given":
        g2 = CLOSE.get(g, g + "n")
        other = f"{s} {m} {g2}"
        y2 = random.randint(1945, 1998)
    elif kind == "other_given":
        other = f"{s} {m} {random.choice([x for x in (GIV_F if female else GIV_M) if x != g])}"
        y2 = random.randint(1945, 1998)
    elif kind == "other_surname":
        other = f"{random.choice([x for x in SUR if x != s])} {m} {g}"
        y2 = random.randint(1945, 1998)
    else:
        other = name if random.random() < 0.5 else strip(name)
        y2 = y + random.choice([-1, 1]) * random.randint(3, 30)
    if random.random() < 0.25:
        other = strip(other)
    rows.append([name, other, y, y2 if random.random() < 0.85 else None, 1 if random.random() < 0.8 else 0, 0, kind])

rows = [r + [None, None, None] for r in rows]
rng = random.Random(16)
def person16():
    female = rng.random() < 0.35
    return (rng.choice(SUR), rng.choice(MID_F if female else MID_M), rng.choice(GIV_F if female else GIV_M),
            rng.randint(1945, 1998), female)
g = lambda female: "female" if female else "male"
for _ in range(70):
    s, m, giv, y, female = person16()
    while giv not in CLOSE:
        s, m, giv, y, female = person16()
    rows.append([f"{s} {m} {giv}", f"{s} {m} {CLOSE[giv]}", y, y, 1, 0, "namesake_same_year", g(female), g(female), None])
for _ in range(40):
    s, m, giv, y, female = person16()
    name = f"{s} {m} {giv}"
    rows.append([name, name if rng.random() < 0.7 else strip(name), y, y, 1, 0, "different_cccd", g(female), g(female), "different"])
for _ in range(20):
    s, m, giv, y, female = person16()
    name = f"{s} {m} {giv}"
    rows.append([name, name, y, y, 1, 0, "different_gender", g(female), g(not female), None])
for _ in range(50):
    s, m, giv, y, female = person16()
    name = f"{s} {m} {giv}"
    r = rng.random()
    other = name if r < 0.5 else (strip(name) if r < 0.75 else f"{s} {m} {typo(giv)}")
    rows.append([name, other, y, same_birth(y), 1, 1, "village_spelling", g(female), g(female), None])

with open("name-pairs.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["a", "b", "birth_a", "birth_b", "same_village", "same", "kind", "gender_a", "gender_b", "ids"])
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
print(len(rows), "pairs")
