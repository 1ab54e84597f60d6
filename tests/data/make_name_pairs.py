#!/usr/bin/env python3
"""Builds name-pairs.csv: labelled pairs of head-of-household records for choosing and checking
the duplicate thresholds (README, "Duplicate household check"). Deterministic (fixed seed).

Same household (same=1): the same name written differently — without diacritics, upper case,
a typo, a missing or extra middle name ("Thị"), swapped order, odd spacing or punctuation — with
the same birth year, one year off, or one unknown.
Different households (same=0): close names (Thu/Thuận, Lan/Lân, Sơn/Sang), same surname and
middle name with another given name, another surname, and namesakes born years apart."""
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

with open("name-pairs.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["a", "b", "birth_a", "birth_b", "same_village", "same", "kind"])
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
print(len(rows), "pairs")
