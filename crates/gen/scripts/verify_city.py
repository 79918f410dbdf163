#!/usr/bin/env python3
"""Independent check of a generated city: re-implements the default rules of DOMAIN.md §4.1
(plus the national course / cycle / insurance-type / secondary-surgery knowledge points the
generator plants) in plain Python and compares what fires with manifest.jsonl.

Usage: python3 verify_city.py OUT_DIR [KB_INDEX.json]

Prints every finding that the manifest does not list (a clean line that fires: a generator bug)
and every planted violation that does not fire, then exits 1 if there is either.
"""
import csv, json, sys, statistics
from collections import defaultdict
from datetime import datetime, date, timedelta

out = sys.argv[1]

def rows(name):
    with open(f"{out}/{name}.csv", newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)

def dt(s):
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S")

def d(s):
    return datetime.strptime(s, "%Y-%m-%d").date()

def fen(s):
    neg = s.startswith("-")
    s = s.lstrip("-")
    a, _, b = s.partition(".")
    v = int(a) * 100 + int((b + "00")[:2]) if b else int(a) * 100
    return -v if neg else v

def micro(s):
    a, _, b = s.partition(".")
    return int(a) * 1_000_000 + int((b + "000000")[:6])

def qty(s):
    neg = s.startswith("-")
    s = s.lstrip("-")
    a, _, b = s.partition(".")
    v = int(a) * 10_000 + int((b + "0000")[:4])
    return -v if neg else v

def age(b, day):
    a = day.year - b.year
    if (day.month, day.day) < (b.month, b.day):
        a -= 1
    return a

psn = {r["psn_no"]: r for r in rows("psn")}
inst = {r["fixmedins_code"]: r for r in rows("fixmedins")}
cat = {r["med_list_codg"]: r for r in rows("catalog")}
mdtrt = {r["mdtrt_id"]: r for r in rows("mdtrt")}
diags = defaultdict(list)
for r in rows("diag"):
    diags[r["mdtrt_id"]].append(r["diag_code"])
susp = defaultdict(list)
for r in rows("pract_susp"):
    susp[r["pract_code"]].append((d(r["begndate"]), d(r["enddate"]) if r["enddate"] else date.max))
rx = {}
for r in rows("rx"):
    rx[(r["hi_rxno"], r["med_list_codg"])] = r
idv = defaultdict(list)
for r in rows("idv"):
    t = dt(r["vrf_time"])
    idv[(r["psn_no"], r["fixmedins_code"], t.date())].append(r["vrf_rslt"] == "1")

findings = set()  # (category, key)
def find(cat_, key):
    findings.add((cat_, key))

fees_by_visit = defaultdict(list)
for r in rows("fee"):
    fees_by_visit[r["mdtrt_id"]].append(r)

def is_ipt(mt):
    return mt in ("21", "22", "23", "24", "52", "2101")

# setl totals
setl_tot = {}
for r in rows("setl"):
    setl_tot[r["mdtrt_id"]] = fen(r["medfee_sumamt"])
    assert fen(r["hifp_pay"]) + fen(r["acct_pay"]) + fen(r["psn_cash_pay"]) == fen(r["medfee_sumamt"]), r

perday = defaultdict(list)  # (psn, code, day) -> [(time, mdtrt, sn, cnt, pric)]
trace_seen = set()
rx_used = defaultdict(int)
drug_hist = defaultdict(list)  # (psn, code) -> [(day, inst)]
sales = defaultdict(int)
inst_stats = defaultdict(lambda: dict(opv=0, opc=0, ipv=0, ipc=0, lines=0, visits=0, drug=0, cost=0))
all_fees = []
for mid, fl in fees_by_visit.items():
    m = mdtrt[mid]
    assert setl_tot[mid] == sum(fen(f["det_item_fee_sumamt"]) for f in fl), mid
    p = psn[m["psn_no"]]
    birth = d(p["brdy"])
    ins = inst[m["fixmedins_code"]]
    ipt = is_ipt(m["med_type"])
    dg = diags[mid] or [m["diag_code"]]
    emer = m["med_type"] == "13" or m["emer_flag"] == "1"
    st = inst_stats[m["fixmedins_code"]]
    st["visits"] += 1
    st["lines"] += len(fl)
    tot = sum(fen(f["det_item_fee_sumamt"]) for f in fl)
    st["cost"] += tot
    if ipt:
        st["ipv"] += 1; st["ipc"] += tot
    else:
        st["opv"] += 1; st["opc"] += tot
    seen_dup = set()
    codes_in_visit = {}
    per_visit_cnt = defaultdict(int)
    for f in sorted(fl, key=lambda f: (f["fee_ocur_time"], f["feedetl_sn"])):
        key = (mid, f["feedetl_sn"])
        c = cat.get(f["med_list_codg"])
        t = dt(f["fee_ocur_time"])
        day = t.date()
        cnt = qty(f["cnt"]); pric = micro(f["pric"])
        assert round(cnt * pric / 1e8 * 100) == fen(f["det_item_fee_sumamt"]) or abs(cnt * pric // 10**8 - fen(f["det_item_fee_sumamt"])) <= 1, f
        if c["med_chrgitm_type"] in ("09", "10", "11"):
            st["drug"] += fen(f["det_item_fee_sumamt"])
        if c["lmt_gend"] and c["lmt_gend"] != p["gend"]:
            find("gender_limit", key)
        a = age(birth, day)
        if (c["lmt_age_min"] and a < int(c["lmt_age_min"])) or (c["lmt_age_max"] and a > int(c["lmt_age_max"])):
            find("age_limit", key)
        if c["lmt_hosp_lv"]:
            lv = ins["hosp_lv"]
            if not lv or int(lv) > int(c["lmt_hosp_lv"]):
                find("hosp_level_limit", key)
        if (c["lmt_med_type"] == "opt" and ipt) or (c["lmt_med_type"] == "ipt" and not ipt):
            find("med_type_limit", key)
        if c["lmt_dise"] and not any(x.startswith(pre) for pre in c["lmt_dise"].split(";") for x in dg):
            find("indication_limit", key)
        if c["pric_uplmt_amt"] and pric > micro(c["pric_uplmt_amt"]):
            find("over_price", key)
        dk = (f["med_list_codg"], f["fee_ocur_time"], f["pric"])
        if dk in seen_dup:
            find("duplicate_charge", key)
        seen_dup.add(dk)
        codes_in_visit.setdefault(f["med_list_codg"], []).append(f)
        perday[(m["psn_no"], f["med_list_codg"], day)].append((t, f["feedetl_sn"], mid, cnt))
        per_visit_cnt[f["med_list_codg"]] += cnt
        if c["max_cnt_mdtrt"] and per_visit_cnt[f["med_list_codg"]] > qty(c["max_cnt_mdtrt"]):
            find("over_frequency", key)
        for tc in filter(None, f["drug_trac_codg"].split(";")):
            if tc in trace_seen:
                find("trace_code_reuse", key)
            trace_seen.add(tc)
        if c["med_chrgitm_type"] in ("09", "10", "11"):
            drug_hist[(m["psn_no"], f["med_list_codg"])].append((day, m["fixmedins_code"]))
        if ins["fixmedins_type"] == "2" and c["med_chrgitm_type"] in ("09", "10", "11"):
            sales[(m["fixmedins_code"], f["med_list_codg"], day.strftime("%Y-%m"))] += cnt
            if c["rx_only"] == "1":
                r = rx.get((f["hi_rxno"], f["med_list_codg"])) if f["hi_rxno"] else None
                ok = r is not None and r["psn_no"] == m["psn_no"] and dt(r["issue_time"]) <= t <= dt(r["issue_time"]) + timedelta(days=int(r["valid_days"] or 3))
                if ok:
                    rx_used[(f["hi_rxno"], f["med_list_codg"])] += cnt
                    if rx_used[(f["hi_rxno"], f["med_list_codg"])] > qty(r["cnt"]):
                        ok = False
                if not ok:
                    find("rx_missing", key)
        dr = f["bilg_dr_codg"] or m["atddr_no"]
        for drc in {f["bilg_dr_codg"], m["atddr_no"]} - {""}:
            if not emer and any(b <= day <= e for b, e in susp.get(drc, [])):
                find("suspended_pract", key)
        all_fees.append((m, f))
    for code_, fls in codes_in_visit.items():
        c = cat[code_]
        for x in filter(None, c["excl_codes"].split(";")):
            if x in codes_in_visit:
                later = max(fls + codes_in_visit[x], key=lambda f: (f["fee_ocur_time"], f["feedetl_sn"]))
                find("exclusive_items", (mid, later["feedetl_sn"]))
        for x in filter(None, c["incl_codes"].split(";")):
            for f in codes_in_visit.get(x, []):
                find("split_charge", (mid, f["feedetl_sn"]))
    if ipt:
        b = d(m["begntime"][:10]); e = d(m["endtime"][:10])
        los = max(1, (e - b).days)
        beds = sum(qty(f["cnt"]) for f in fl if cat[f["med_list_codg"]]["med_chrgitm_type"] == "01")
        if beds > los * 10_000:
            find("bed_days_excess", mid)
        absent = 0
        for k in range((e - b).days):
            dd = b + timedelta(days=k)
            present = any(idv.get((m["psn_no"], m["fixmedins_code"], dd), [])) or any(
                dt(f["fee_ocur_time"]).date() == dd and cat[f["med_list_codg"]]["med_chrgitm_type"] != "01" for f in fl)
            if not present:
                absent += 1
        if absent >= 3 and absent * 2 >= (e - b).days:
            find("phantom_bed", mid)

for (pn, code_, day), lst in perday.items():
    c = cat[code_]
    if not c["max_cnt_day"]:
        continue
    lim = qty(c["max_cnt_day"]); run = 0
    for t, sn, mid, cnt in sorted(lst):
        run += cnt
        if run > lim:
            find("over_frequency", (mid, sn))

# visits per person
by_psn = defaultdict(list)
for m in mdtrt.values():
    by_psn[m["psn_no"]].append(m)
for pn, vs in by_psn.items():
    vs.sort(key=lambda m: m["begntime"])
    stays = [m for m in vs if is_ipt(m["med_type"])]
    for i, s2 in enumerate(stays):
        for s1 in stays[:i]:
            if s1["fixmedins_code"] == s2["fixmedins_code"] and 0 <= (d(s2["begntime"][:10]) - d(s1["endtime"][:10])).days <= 15 and s1["diag_code"][:3] == s2["diag_code"][:3]:
                find("split_admission", s2["mdtrt_id"])
    for s in stays:
        a = d(s["begntime"][:10]); e = d(s["endtime"][:10])
        for v in vs:
            if v is s or v["fixmedins_code"] == s["fixmedins_code"]:
                continue
            vd = d(v["begntime"][:10])
            if a < vd < e and not (v["med_type"] == "13" or v["emer_flag"] == "1"):
                find("concurrent_visit", v["mdtrt_id"])
    for v in vs:
        day = dt(v["begntime"]).date()
        res = idv.get((pn, v["fixmedins_code"], day), [])
        if res and not any(res):
            find("card_misuse", v["mdtrt_id"])
    for i, v in enumerate(vs):
        for w in vs[i + 1:]:
            if abs((dt(w["begntime"]) - dt(v["begntime"])).total_seconds()) < 3 * 3600 and inst[v["fixmedins_code"]]["admdvs"][:4] != inst[w["fixmedins_code"]]["admdvs"][:4]:
                find("card_misuse", w["mdtrt_id"])

for (pn, code_), hist in drug_hist.items():
    hist.sort()
    for i, (day, _) in enumerate(hist):
        win = {ins_ for dd, ins_ in hist if day <= dd < day + timedelta(days=30)}
        if len(win) >= 3:
            find("doctor_shopping", (pn, code_))

stock = {(r["fixmedins_code"], r["med_list_codg"], r["inv_date"][:7]): qty(r["inv_cnt"]) for r in rows("inv_stock")}
purc = defaultdict(int)
for r in rows("inv_purc"):
    purc[(r["fixmedins_code"], r["med_list_codg"], r["purc_time"][:7])] += qty(r["purc_cnt"])
for k, sold in sales.items():
    if sold > stock.get(k, 0) + purc.get(k, 0):
        find("inventory_mismatch", (k[0], k[1]))

# provider outlier
groups = defaultdict(list)
for code_, s in inst_stats.items():
    i = inst[code_]
    groups[(i["fixmedins_type"], i["hosp_lv"])].append(code_)
for g, members in groups.items():
    for metric in ("op", "ip", "lpv", "drug"):
        vals = {}
        for c_ in members:
            s = inst_stats[c_]
            if metric == "op" and s["opv"]: vals[c_] = s["opc"] / s["opv"]
            if metric == "ip" and s["ipv"]: vals[c_] = s["ipc"] / s["ipv"]
            if metric == "lpv" and s["visits"]: vals[c_] = s["lines"] / s["visits"]
            if metric == "drug" and s["cost"]: vals[c_] = s["drug"] / s["cost"]
        if len(vals) < 3:
            continue
        med = statistics.median(vals.values())
        mad = statistics.median(abs(v - med) for v in vals.values())
        for c_, v in vals.items():
            z = (v - med) / (1.4826 * mad) if mad > 0 else (float("inf") if v != med else 0)
            if z > 3.5 and v > 1.5 * med:
                find("provider_outlier", c_)
                print(f"  outlier {c_} {metric} {v:.2f} vs median {med:.2f}")

# national knowledge points planted by the generator
B3 = {"XJ07BGR030B001010101119"}
COURSE = {"XB01AXA223B002010100156": 14, "003402000210000": 30}
CYCLE = {"002503020030000": (1, 15)}
SURG_GROUP = {"003310030220000": "胃肠", "003310030200000": "胃肠", "003310060020000": "肝胆"}
for m, f in all_fees:
    if f["med_list_codg"] in B3:
        find("insurance_type_limit", (m["mdtrt_id"], f["feedetl_sn"]))
course_days = defaultdict(list)
cycle_hist = defaultdict(list)
for m, f in all_fees:
    c = f["med_list_codg"]
    if c in COURSE:
        course_days[(m["mdtrt_id"], c)].append((f["fee_ocur_time"], f["feedetl_sn"]))
    if c in CYCLE:
        cycle_hist[(m["psn_no"], c)].append((dt(f["fee_ocur_time"]), m["mdtrt_id"], f["feedetl_sn"]))
for (mid, c), lst in course_days.items():
    lst.sort()
    days_seen = []
    for t, sn in lst:
        if t[:10] not in days_seen:
            days_seen.append(t[:10])
        if len(days_seen) > COURSE[c]:
            find("course_limit", (mid, sn))
for (pn, c), lst in cycle_hist.items():
    lst.sort()
    n, cyc = CYCLE[c]
    for i, (t, mid, sn) in enumerate(lst):
        prev = [x for x in lst[:i] if (t - x[0]).days < cyc]
        if len(prev) >= n:
            find("cycle_frequency", (mid, sn))
for mid, fl in fees_by_visit.items():
    ops = sorted([f for f in fl if f["med_list_codg"] in SURG_GROUP], key=lambda f: (f["fee_ocur_time"], f["feedetl_sn"]))
    for i, f in enumerate(ops[1:], 1):
        same = [o for o in ops[:i] if SURG_GROUP[o["med_list_codg"]] == SURG_GROUP[f["med_list_codg"]] and o["fee_ocur_time"] == f["fee_ocur_time"]]
        if same and micro(f["pric"]) >= micro(cat[f["med_list_codg"]]["pric_uplmt_amt"]):
            find("secondary_surgery_discount", (mid, f["feedetl_sn"]))

# compare with the manifest
expected = set(); clean = set()
for line in open(f"{out}/manifest.jsonl", encoding="utf-8"):
    e = json.loads(line)
    cat_ = e["category"]
    if e["level"] == "fee":
        key = (e["mdtrt_id"], e["feedetl_sn"])
    elif e["level"] == "mdtrt":
        key = e["mdtrt_id"]
    elif e["level"] == "psn":
        key = (e["psn_no"], e["med_list_codg"])
    elif cat_ == "inventory_mismatch":
        key = (e["fixmedins_code"], e["med_list_codg"])
    else:
        key = e["fixmedins_code"]
    (clean if e["expect"] == "clean" else expected).add((cat_, key))
# upcoding has no mechanical rule here: take it from the manifest
found = {f for f in findings}
extra = sorted(found - expected, key=str)
missed = sorted((expected - found) - {x for x in expected if x[0] == "upcoding"}, key=str)
bad_clean = sorted(found & clean, key=str)
print(f"findings {len(found)}, expected {len(expected)}, extra {len(extra)}, missed {len(missed)}, clean cases firing {len(bad_clean)}")
by = defaultdict(int)
for c_, _ in extra:
    by[c_] += 1
print("extra by category:", dict(by))
for x in extra[:30]:
    print("EXTRA", x)
for x in missed[:30]:
    print("MISSED", x)
for x in bad_clean:
    print("CLEAN FIRED", x)
sys.exit(1 if extra or missed or bad_clean else 0)
