#!/usr/bin/env python3
"""Read the district summary spreadsheet with openpyxl — a reader independent of the writer
library (rust_xlsxwriter) — and check its totals against figures computed by psql.

usage: check_report_xlsx.py FILE.xlsx CONFIRMED PLEDGED DELIVERED
"""
import sys

import openpyxl


def main() -> int:
    path, confirmed, pledged, delivered = sys.argv[1], *map(int, sys.argv[2:5])
    wb = openpyxl.load_workbook(path, read_only=True)
    problems = []

    ws = wb["Danh sách hộ"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "STT")
    heads = rows[header]
    col_p = heads.index("Giá trị cam kết (đồng)")
    col_d = heads.index("Giá trị đã trao (đồng)")
    body = rows[header + 1:]
    total = next(r for r in body if r[1] == "Tổng cộng")
    data = [r for r in body if isinstance(r[0], (int, float))]
    sums = (sum(r[col_p] for r in data), sum(r[col_d] for r in data))
    if len(data) != confirmed:
        problems.append(f"{len(data)} household rows, the database has {confirmed}")
    if sums != (pledged, delivered):
        problems.append(f"rows sum to {sums}, the database to {(pledged, delivered)}")
    if (total[col_p], total[col_d]) != (pledged, delivered):
        problems.append(f"totals row says {(total[col_p], total[col_d])}")
    if [r[0] for r in data] != list(range(1, len(data) + 1)):
        problems.append("STT is not 1..n")

    figures = {r[0]: r[1] for r in wb["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
    for label, want in [
        ("Hộ đã được xã xác nhận", confirmed),
        ("Giá trị cam kết (đồng)", pledged),
        ("Giá trị đã trao (đồng)", delivered),
    ]:
        if figures.get(label) != want:
            problems.append(f"sheet Tổng hợp: {label} = {figures.get(label)}, expected {want}")

    by_commune = list(wb["Theo xã"].iter_rows(values_only=True))
    commune_total = next(r for r in by_commune if r and r[0] == "Tổng cộng")
    if (commune_total[1], commune_total[3]) != (confirmed, delivered):
        problems.append(f"sheet Theo xã: totals {commune_total[1:4]}")

    if problems:
        print("xlsx check FAILED:\n  " + "\n  ".join(problems))
        return 1
    print(f"xlsx check ok: {confirmed} households, pledged {pledged}, delivered {delivered} "
          f"(openpyxl {openpyxl.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
