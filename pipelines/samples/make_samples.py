#!/usr/bin/env python3
"""Regenerates the bundled sample data (synthetic values in the real APIs' shapes).

    python3 pipelines/samples/make_samples.py          # from the project root

- seoul-covid19-daily.xml: Seoul Open Data Plaza `TbCorona19CountStatus` XML (root element, list_total_count,
  RESULT/CODE/MESSAGE, one <row> per day, empty values as self-closing elements, S_DT as YYYY.MM.DD.HH).
- taipei-covid19-districts.json: data.taipei `resourceAquire` JSON (result.limit/offset/count/results[] with _id,
  _importdate{date,timezone_type,timezone} and Chinese column names with string values).
- confirmed-case-visits.csv: visits by confirmed cases as a city's tracing team records them (with the details the
  2020 disclosure guidance forbids publishing: sex, age, nationality, workplace, residence down to the dong).
- tracing-events.csv: made by shared/bench/gen_tracing.py --rows 5000 --seed 7 (not by this script).
"""
import csv
import json
import random
from datetime import date, timedelta

rng = random.Random(2022)

EMPTY = ["S_CARE", "S_RECOVER", "SN_RECOVER", "SY_TOTAL", "SY_KJ", "SY_KH", "TY_CARE", "RECOVER", "TY_TOTAL",
         "TY_KJ", "TY_KH", "JGK_OVERSEAS_GS", "JGK_OVERSEAS_GH", "JGK_CONT_GS", "JGK_CONT_GH", "CHECKING"]
ORDER = ["S_DT", "S_HJ", "SN_HJ", "S_CARE", "S_RECOVER", "SN_RECOVER", "S_DEATH", "SY_TOTAL", "SY_KJ", "SY_KH",
         "T_DT", "T_HJ", "N_HJ", "TY_CARE", "RECOVER", "DEATH", "TY_TOTAL", "TY_KJ", "TY_KH", "JGK_OVERSEAS_GS",
         "JGK_OVERSEAS_GH", "JGK_CONT_GS", "JGK_CONT_GH", "CHECKING"]


def seoul():
    days = 60
    start = date(2022, 1, 2)
    seoul_total, korea_total, seoul_deaths, korea_deaths = 320000, 680000, 1200, 6200
    rows = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        seoul_new = int(2000 * 1.045 ** offset * rng.uniform(0.85, 1.15))
        korea_new = int(seoul_new * rng.uniform(3.6, 4.4))
        seoul_total += seoul_new
        korea_total += korea_new
        seoul_deaths += rng.randint(0, 12)
        korea_deaths += rng.randint(5, 60)
        stamp = day.strftime("%Y.%m.%d") + ".00"
        row = {"S_DT": stamp, "S_HJ": seoul_total, "SN_HJ": seoul_new, "S_DEATH": seoul_deaths, "T_DT": stamp,
               "T_HJ": korea_total, "N_HJ": korea_new, "DEATH": korea_deaths}
        rows.append(row)
    rows.reverse()  # the API lists the newest day first
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<TbCorona19CountStatus>",
           f"<list_total_count>{len(rows)}</list_total_count>",
           "<RESULT>", "<CODE>INFO-000</CODE>", "<MESSAGE>정상 처리되었습니다</MESSAGE>", "</RESULT>"]
    for row in rows:
        out.append("<row>")
        for key in ORDER:
            out.append(f"<{key}/>" if key in EMPTY else f"<{key}>{row[key]}</{key}>")
        out.append("</row>")
    out.append("</TbCorona19CountStatus>")
    with open("pipelines/samples/seoul-covid19-daily.xml", "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def taipei():
    districts = ["中正區", "大同區", "中山區", "松山區", "大安區", "萬華區", "信義區", "士林區", "北投區", "內湖區",
                 "南港區", "文山區"]
    results = []
    ident = 1
    for offset in range(14):
        day = date(2022, 5, 1) + timedelta(days=offset)
        for district in districts:
            results.append({
                "_id": ident,
                "_importdate": {"date": f"2022-05-16 09:30:{ident % 60:02d}.{ident * 7919 % 1000000:06d}",
                                "timezone_type": 3, "timezone": "Asia/Taipei"},
                "日期": day.strftime("%Y/%m/%d"),
                "行政區": district,
                "確診人數": str(int(rng.uniform(40, 400))),
            })
            ident += 1
    document = {"result": {"limit": len(results), "offset": 0, "count": len(results), "sort": "", "results": results}}
    with open("pipelines/samples/taipei-covid19-districts.json", "w", encoding="utf-8") as f:
        json.dump(document, f, ensure_ascii=False, indent=2)
        f.write("\n")


def visits():
    dongs = {"역삼동": "강남구", "삼성동": "강남구", "대치동": "강남구", "잠실동": "송파구", "가락동": "송파구",
             "서교동": "마포구", "합정동": "마포구", "종로1가": "종로구"}
    places = [("음식점", "한솥도시락 역삼점", "강남구 테헤란로 101"), ("카페", "스타벅스 잠실점", "송파구 올림픽로 240"),
              ("PC방", "레벨업PC 홍대점", "마포구 와우산로 90"), ("마트", "이마트 성수점", "성동구 뚝섬로 379"),
              ("헬스장", "짐박스 삼성점", "강남구 봉은사로 524"), ("노래방", "코인노래방 종로점", "종로구 종로 12")]
    jobs = ["회사원", "자영업", "학생", "공무원", "무직"]
    nations = ["대한민국", "대한민국", "대한민국", "중국", "베트남"]
    start = date(2020, 12, 1)
    rows = []
    for case in range(1, 41):
        dong = rng.choice(list(dongs))
        for _ in range(rng.randint(1, 3)):
            kind, name, address = rng.choice(places)
            day = start + timedelta(days=rng.randint(0, 30))
            hour = rng.randint(8, 21)
            rows.append({
                "case_id": f"서울-{9000 + case}", "sex": rng.choice("MF"), "age": rng.randint(18, 85),
                "nationality": rng.choice(nations), "workplace": rng.choice(jobs), "residence_dong": dong,
                "place_type": kind, "place_name": name, "place_address": address,
                "visited_from": f"{day.isoformat()}T{hour:02d}:{rng.choice([0, 15, 30, 45]):02d}:00+09:00",
                "visited_to": f"{day.isoformat()}T{hour + 1:02d}:{rng.choice([0, 15, 30, 45]):02d}:00+09:00",
                "last_contact": day.isoformat(), "disinfected": rng.choice(["Y", "Y", "N"]),
            })
    rows.sort(key=lambda row: row["visited_from"])
    with open("pipelines/samples/confirmed-case-visits.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    seoul()
    taipei()
    visits()
