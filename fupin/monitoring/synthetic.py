"""A labelled synthetic pair of files for the linkage benchmark and the model's m/u (no Django).

Names follow published frequencies: the 2020 household-register report's top surnames (王 李 张
刘 陈 … about 60 % of the population in the 30 listed here) and the most given names (伟, 芳,
秀英, 娜, 敏, 静 …), so namesakes such as 王伟 occur as often as in a real county. A department's
list copies some registry persons with the errors clerks make: homophones and similar
characters, traditional characters, a dropped character, spaces and full-width characters, an ID
with one wrong or two swapped digits, a 15-digit old ID, a missing ID, a mistyped birth date,
a differently written address. Every row carries its truth (`truth`: the registry key or "").
"""
from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass

from fupin.core import idcard

from .linkage import Record

SURNAMES = [("王", 7.12), ("李", 7.00), ("张", 6.74), ("刘", 5.38), ("陈", 4.53), ("杨", 3.08), ("黄", 2.23),
            ("赵", 2.19), ("吴", 2.00), ("周", 1.95), ("徐", 1.45), ("孙", 1.38), ("马", 1.29), ("朱", 1.28),
            ("胡", 1.16), ("郭", 1.13), ("何", 1.06), ("林", 1.02), ("高", 1.00), ("罗", 0.95), ("郑", 0.92),
            ("梁", 0.85), ("谢", 0.76), ("宋", 0.72), ("唐", 0.71), ("许", 0.66), ("韩", 0.65), ("邓", 0.62),
            ("冯", 0.61), ("曹", 0.59), ("彭", 0.56), ("曾", 0.53), ("肖", 0.52), ("田", 0.51), ("董", 0.50),
            ("潘", 0.48), ("袁", 0.47), ("蔡", 0.45), ("蒋", 0.44), ("余", 0.43), ("于", 0.42), ("杜", 0.41),
            ("叶", 0.40), ("程", 0.39), ("魏", 0.38), ("苏", 0.37), ("吕", 0.36), ("丁", 0.35), ("任", 0.34),
            ("卢", 0.33), ("沈", 0.30), ("欧阳", 0.05), ("司马", 0.01)]
GIVEN_M = [("伟", 2.9), ("强", 1.6), ("磊", 1.5), ("军", 1.4), ("洋", 1.3), ("勇", 1.3), ("杰", 1.2), ("涛", 1.1),
           ("明", 1.0), ("超", 1.0), ("刚", 0.9), ("平", 0.8), ("辉", 0.8), ("鹏", 0.7), ("华", 0.7), ("飞", 0.7),
           ("建华", 0.6), ("建国", 0.6), ("志强", 0.5), ("俊杰", 0.5), ("浩然", 0.4), ("子轩", 0.4), ("国强", 0.4),
           ("海涛", 0.3), ("文博", 0.3), ("宇航", 0.3), ("德明", 0.2), ("永福", 0.2)]
GIVEN_F = [("芳", 2.5), ("秀英", 2.2), ("娜", 2.0), ("敏", 1.9), ("静", 1.9), ("丽", 1.6), ("艳", 1.3), ("娟", 1.2),
           ("霞", 1.1), ("秀兰", 1.1), ("燕", 1.0), ("玲", 0.9), ("桂英", 0.9), ("丹", 0.8), ("萍", 0.8), ("红", 0.8),
           ("玉兰", 0.7), ("桂兰", 0.6), ("婷", 0.6), ("雪", 0.5), ("欣怡", 0.5), ("梓涵", 0.4), ("诗涵", 0.4),
           ("淑珍", 0.3), ("美玲", 0.3), ("晓燕", 0.3)]
# Characters for the long tail of two-character given names.
POOL_M = "国建志明永春海文德中军华金庆光林福宝荣兴成家宏伟俊浩宇博立新学正"
POOL_F = "秀桂玉淑美丽红春海兰英芳凤云珍霞艳梅琴慧晓雪婷静月佳欣怡"
HOMOPHONES = {"伟": "玮炜维", "芳": "方", "丽": "莉力", "静": "靖晶", "明": "铭名", "军": "君", "华": "花",
              "英": "瑛", "红": "宏鸿", "霞": "侠", "兰": "岚", "梅": "媒", "杰": "洁", "涛": "韬", "平": "萍",
              "刚": "钢", "勇": "永", "强": "蔷", "玲": "琳", "燕": "艳雁", "娟": "鹃", "敏": "民", "国": "帼",
              "建": "健剑", "志": "智", "海": "亥", "文": "雯", "德": "得", "春": "纯", "秀": "绣", "桂": "贵",
              "玉": "钰", "云": "芸", "珍": "贞", "婷": "庭", "磊": "垒", "飞": "菲", "辉": "晖", "鹏": "朋"}
SIMILAR = {"王": "玉", "李": "季", "刘": "浏", "陈": "阵", "杨": "扬", "赵": "起", "徐": "涂", "孙": "逊",
           "胡": "湖", "郭": "廓", "林": "材", "高": "膏", "梁": "粱", "宋": "末", "许": "浒", "于": "干",
           "己": "已", "未": "末", "日": "曰", "土": "士", "天": "夭", "人": "入", "贝": "见", "兵": "乒",
           "英": "央", "春": "舂", "兰": "当", "凤": "风", "金": "全", "玉": "王", "明": "朋"}
COUNTY_PREFIXES = ["513435", "513436", "513433", "513428"]
TOWNSHIPS = ["新市坝镇", "田坝镇", "吉米镇", "斯觉镇", "普昌镇", "玉田镇", "胜利乡", "团结乡"]
VILLAGES = ["桃源村", "红星村", "团结村", "新华村", "和平村", "前进村", "光明村", "胜利村", "幸福村", "东风村",
            "向阳村", "友谊村", "民主村", "建设村", "永安村", "长春村"]


@functools.lru_cache(maxsize=1)
def _s2t():
    from opencc import OpenCC

    return OpenCC("s2t")


def _pick(rng: random.Random, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights=weights, k=1)[0]


def make_name(rng: random.Random, sex: str) -> str:
    surname = _pick(rng, SURNAMES)
    if rng.random() < 0.6:
        given = _pick(rng, GIVEN_M if sex == "M" else GIVEN_F)
    else:
        pool = POOL_M if sex == "M" else POOL_F
        given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.8 else "")
    return surname + given


@dataclass
class Truth:
    """A labelled benchmark, columnar: each side's features (fupin.monitoring.linkage.feature_frame) and
    raw fields, the true pairs (left, right) and the kinds of error put into each list row (right, kinds)."""
    left: "pl.DataFrame"
    right: "pl.DataFrame"
    left_raw: "pl.DataFrame"
    right_raw: "pl.DataFrame"
    pairs: "pl.DataFrame"
    errors: "pl.DataFrame"


RAW = ("key", "name", "id_number", "sex", "birth", "address")


def people(n: int, rng: random.Random):
    """n persons, one at a time (a province's registry is never a list in memory)."""
    used = set()
    for i in range(n):
        sex = rng.choice("MF")
        birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 85))
        prefix = rng.choice(COUNTY_PREFIXES)
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
            idn = idcard.make_id(prefix, birth, seq)
            if idn not in used:
                used.add(idn)
                break
        address = f"{rng.choice(TOWNSHIPS)}{rng.choice(VILLAGES)}{rng.randrange(1, 9)}组"
        yield Record(key=f"L{i}", name=make_name(rng, sex), id_number=idn, sex="男" if sex == "M" else "女",
                     birth=birth.isoformat(), address=address)


def population(n: int, rng: random.Random) -> list[Record]:
    return list(people(n, rng))


def _swap_char(name: str, table: dict, rng: random.Random) -> str | None:
    idx = [i for i, ch in enumerate(name) if ch in table]
    if not idx:
        return None
    i = rng.choice(idx)
    return name[:i] + rng.choice(table[name[i]]) + name[i + 1:]


def _digit_typo(s: str, rng: random.Random, *, allow_last: bool = True) -> str:
    i = rng.randrange(0, len(s) - (0 if allow_last else 1))
    ch = s[i]
    new = rng.choice([d for d in "0123456789" if d != ch])
    return s[:i] + new + s[i + 1:]


def corrupt(rec: Record, key: str, rng: random.Random, n_errors: int) -> tuple[Record, list[str]]:
    name, idn, birth, sex, address = rec.name, rec.id_number, rec.birth, rec.sex, rec.address
    kinds: list[str] = []
    options = ["homophone", "similar", "traditional", "dropped", "spaces", "fullwidth", "id_digit", "id_swap",
               "id15", "id_missing", "birth", "address", "sex_missing"]
    for kind in rng.sample(options, n_errors):
        if kind.startswith("id") or kind == "fullwidth":
            if len(idn) != 18 or not idn[:17].isdigit():
                continue  # one change to the ID per record
        if kind == "homophone":
            new = _swap_char(name, HOMOPHONES, rng)
            if new:
                name = new
        elif kind == "similar":
            new = _swap_char(name, SIMILAR, rng)
            if new:
                name = new
        elif kind == "traditional":
            name = _s2t().convert(name)
        elif kind == "dropped" and len(name) >= 3:
            i = rng.randrange(1, len(name))
            name = name[:i] + name[i + 1:]
        elif kind == "spaces":
            name = name[0] + " " + name[1:]
        elif kind == "fullwidth":
            idn = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in idn)
        elif kind == "id_digit":
            idn = _digit_typo(idn, rng, allow_last=False)
        elif kind == "id_swap":
            i = rng.randrange(0, 16)
            if idn[i] != idn[i + 1]:
                idn = idn[:i] + idn[i + 1] + idn[i] + idn[i + 2:]
        elif kind == "id15" and idn[6:8] == "19":
            idn = idn[:6] + idn[8:17]
        elif kind == "id_missing":
            idn = ""
        elif kind == "birth":
            birth = _digit_typo(birth.replace("-", ""), rng)
        elif kind == "address":
            address = rng.choice(["四川省凉山州甘洛县", "甘洛县", ""]) + address.replace("组", "社")
        elif kind == "sex_missing":
            sex = ""
        else:
            continue
        kinds.append(kind)
    return Record(key=key, name=name, id_number=idn, sex=sex, birth=birth, address=address), kinds


def benchmark(n_left: int = 20000, n_right: int = 4000, overlap: float = 0.6, seed: int = 2026,
              chunk: int = 100_000) -> Truth:
    """Registry of n_left persons; a department list of n_right rows, `overlap` of them registry
    persons (40 % written cleanly, the rest with one or two errors), the others new people —
    a quarter of whom are namesakes of a registry person (same name, another person; a third of
    those also born the same day). Built a chunk at a time into columns, so 5,000,000 × 5,000,000
    fits in memory; the same seed gives the same data at every size and chunk."""
    import polars as pl

    from .linkage import feature_frame

    def raw(records) -> pl.DataFrame:
        return pl.DataFrame([[getattr(r, c) for r in records] for c in RAW], schema=list(RAW), orient="col")

    def chunks(records):
        buf = []
        for r in records:
            buf.append(r)
            if len(buf) >= chunk:
                yield buf
                buf = []
        if buf:
            yield buf

    rng = random.Random(seed)
    left_parts, left_feats = [], []
    for part in chunks(people(n_left, rng)):
        left_parts.append(raw(part))
        left_feats.append(feature_frame(part))
    left_raw = pl.concat(left_parts, rechunk=True)
    n_match = int(n_right * overlap)
    right_parts, pair_rows, error_rows = [], [], []

    def list_rows():
        for j, li in enumerate(rng.sample(range(n_left), n_match)):
            key = f"R{j}"
            n_err = rng.choices([0, 1, 2], weights=[0.4, 0.4, 0.2])[0]
            rec, kinds = corrupt(Record(*left_raw.row(li)), key, rng, n_err)
            pair_rows.append((f"L{li}", key))
            error_rows.append((key, ",".join(kinds)))
            yield rec
        for j, rec in enumerate(people(n_right - n_match, random.Random(seed + 1)), start=n_match):
            if rng.random() < 0.25:  # a namesake: 王伟 who is another 王伟, a third of them born the same day
                twin = Record(*left_raw.row(rng.choice(range(n_left))))
                rec.name = twin.name
                if rng.random() < 1 / 3:
                    rec.birth = twin.birth
                    rec.id_number = idcard.make_id(rec.id_number[:6], dt.date.fromisoformat(twin.birth),
                                                   int(rec.id_number[14:17]))
            rec.key = f"R{j}"
            error_rows.append((rec.key, "new"))
            yield rec

    for part in chunks(list_rows()):
        right_parts.append(raw(part))
    order = list(range(n_right))
    rng.shuffle(order)   # the list in no particular order, as a department sends it
    right_raw = pl.concat(right_parts, rechunk=True)[order]
    right_feats = [feature_frame(Record(*row) for row in right_raw.slice(i, chunk).iter_rows())
                   for i in range(0, n_right, chunk)]
    return Truth(pl.concat(left_feats, rechunk=True), pl.concat(right_feats, rechunk=True) if right_feats
                 else feature_frame([]), left_raw, right_raw,
                 pl.DataFrame(pair_rows, schema=["left", "right"], orient="row"),
                 pl.DataFrame(error_rows, schema=["right", "kinds"], orient="row"))


# ---- department batches for a demo county ------------------------------------------------------------

DEMO_SOURCES = {"deaths": "县民政局（殡葬管理所）", "dibao": "县民政局", "tekun": "县民政局", "disability": "县残联",
                "medical_payments": "县医疗保障局", "dropouts": "县教育局", "diseases": "县卫生健康局",
                "vehicles": "县公安局交警大队", "businesses": "县市场监督管理局", "public_employees": "县人力资源和社会保障局",
                "commercial_housing": "县住房和城乡建设局"}
_EXTRA = {"deaths": ("死亡日期",), "dibao": ("纳入日期",), "tekun": ("纳入日期",), "disability": ("残疾等级", "残疾类别"),
          "medical_payments": ("年度", "个人自付金额"), "dropouts": ("学校", "辍学日期"), "diseases": ("病种",),
          "vehicles": ("号牌号码", "车辆类型"), "businesses": ("市场主体名称", "成立日期"),
          "public_employees": ("工作单位",), "commercial_housing": ("房屋坐落", "登记日期")}


def demo_lists(persons, *, as_of: dt.date, seed: int = 14) -> dict[str, tuple[str, bytes]]:
    """CSV files (kind → (source, bytes)) that give a demo county a realistic handful of findings
    of every kind. `persons`: registry persons with `.household` (status, village_id) loaded.
    A third of the rows carry one clerk's error (so linkage has work to do) and each list has a
    few people who are not in the registry at all."""
    import csv
    import io

    rng = random.Random(seed)
    alive = [p for p in persons if p.alive and p.household_id]
    by_status: dict[str, list] = {}
    for p in alive:
        by_status.setdefault(p.household.status, []).append(p)
    out_ = by_status.get("exited", []) + by_status.get("eliminated", [])
    in_ = by_status.get("registered", []) + by_status.get("monitored", [])
    children = [p for p in out_ if as_of.year - p.birth_date.year in range(7, 16)]

    def pick(pool, n):
        return rng.sample(pool, min(n, len(pool)))

    def extra(kind, i):
        y = as_of.year
        return {"deaths": [f"{as_of - dt.timedelta(days=10 + i)}"], "dibao": [f"{as_of - dt.timedelta(days=20)}"],
                "tekun": [f"{as_of - dt.timedelta(days=15)}"], "disability": [str(1 + i % 4), "肢体"],
                "medical_payments": [str(y), "26500.00" if i % 2 == 0 else "3200.50"],
                "dropouts": ["县第一中学", f"{as_of - dt.timedelta(days=30)}"],
                "diseases": [rng.choice(["尘肺病", "慢性肾衰竭", "重性精神病", "恶性肿瘤"])],
                "vehicles": [f"川W{rng.randrange(10000, 99999)}", "小型轿车"],
                "businesses": [f"{rng.choice(VILLAGES)}农资经营部", f"{y - 2}-05-01"],
                "public_employees": ["县农业农村局"], "commercial_housing": ["县城东区幸福小区3栋", f"{y - 1}-08-08"]}[kind]

    chosen = {"deaths": pick(alive, 4), "dibao": pick(out_, 3) + pick(in_, 2), "tekun": pick(out_, 2),
              "disability": pick(out_, 4), "medical_payments": pick(out_, 4), "dropouts": pick(children, 2),
              "diseases": pick(in_, 4), "vehicles": pick(in_, 2), "businesses": pick(in_, 1),
              "public_employees": pick(in_, 1), "commercial_housing": pick(in_, 1)}
    files = {}
    for kind, people in chosen.items():
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["姓名", "公民身份号码", "性别", "出生日期", "住址", *_EXTRA[kind]])
        for i, p in enumerate(people):
            rec = Record(key=str(i), name=p.name, id_number=p.id_number, sex="男" if p.sex == "M" else "女",
                         birth=p.birth_date.isoformat(), address=p.household.address or "")
            if i % 3 == 2:  # a clerk's error: homophone, traditional character, 15-digit ID …
                rec, _ = corrupt(rec, rec.key, rng, 1)
            birth = rec.birth if "-" in str(rec.birth) else ""
            w.writerow([rec.name, rec.id_number, rec.sex, birth, rec.address, *extra(kind, i)])
        for j, stranger in enumerate(population(2, rng)):  # on the list, not in the registry
            w.writerow([stranger.name, stranger.id_number, stranger.sex, stranger.birth, stranger.address,
                        *extra(kind, j + 1)])
        files[kind] = (DEMO_SOURCES[kind], buf.getvalue().encode("utf-8"))
    return files
