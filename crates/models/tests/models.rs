//! The three shipped models on a small constructed store (CSV batch → medfund-store Parquet),
//! with the expected rows worked out by hand.

use medfund_contract::finding::{Category, Level, Outcome};
use medfund_contract::{Fen, Finding};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const DRUG_A: &str = "XN06BXA000000000000000A"; // 奥拉西坦注射液: on the key-drug list
const DRUG_B: &str = "XJ01CAA000000000000000B"; // 阿莫西林胶囊
const ITEM: &str = "003105050010000";
const CODE_R1: &str = "81234567890123456781";
const CODE_R2: &str = "81234567890123456782";
const CODE_S: &str = "81234567890123456783";

#[derive(Default)]
struct Csv {
    psn: Vec<String>,
    mdtrt: String,
    setl: String,
    fee: String,
    n: usize,
}

impl Csv {
    /// One visit with its settlement and fee lines `(code, cnt, unit price, trace codes)`.
    fn visit(
        &mut self,
        psn: &str,
        inst: &str,
        med_type: &str,
        day: &str,
        lines: &[(&str, u32, &str, &str)],
    ) {
        self.n += 1;
        let id = format!("M{:04}", self.n);
        if !self.psn.iter().any(|p| p == psn) {
            self.psn.push(psn.to_string());
        }
        let end = if med_type == "21" {
            format!("{day} 18:00:00")
        } else {
            String::new()
        };
        writeln!(
            self.mdtrt,
            "{id},{psn},{inst},{med_type},{day} 08:00:00,{end},J06.900"
        )
        .unwrap();
        let total: f64 = lines
            .iter()
            .map(|(_, c, p, _)| *c as f64 * p.parse::<f64>().unwrap())
            .sum();
        writeln!(
            self.setl,
            "S{id},{id},{psn},{inst},{day} 19:00:00,{total:.2},0"
        )
        .unwrap();
        for (k, (code, cnt, pric, trace)) in lines.iter().enumerate() {
            let amt = *cnt as f64 * pric.parse::<f64>().unwrap();
            writeln!(
                self.fee,
                "{},{id},S{id},{psn},{inst},{day} 09:00:00,{code},{cnt},{pric},{amt:.2},{trace}",
                k + 1
            )
            .unwrap();
        }
    }
}

fn h(k: usize) -> String {
    format!("H3301020000{k}")
}

fn build(dir: &Path) {
    let mut c = Csv::default();
    // False admission, March: four tertiary hospitals, 10 patients each; admissions 1, 1, 2, 6.
    // April: admissions 1, 1, 1, 4.
    for (month, admissions) in [("2024-03", [1, 1, 2, 6]), ("2024-04", [1, 1, 1, 4])] {
        for (k, n) in admissions.iter().enumerate() {
            let inst = h(k + 1);
            for p in 0..10 {
                let psn = format!("{inst}p{p}");
                let mut lines = vec![(ITEM, 1, "10.00", "")];
                // Key drug volumes at the first patient's March visit.
                if month == "2024-03" && p == 0 {
                    match k {
                        0 => lines.push((DRUG_A, 100, "5.00", "")),
                        1 => lines.push((DRUG_A, 50, "5.00", "")),
                        2 => lines.push((DRUG_A, 500, "5.00", "")),
                        _ => {}
                    }
                }
                c.visit(&psn, &inst, "11", &format!("{month}-05"), &lines);
                if p < *n {
                    c.visit(
                        &psn,
                        &inst,
                        "21",
                        &format!("{month}-10"),
                        &[(ITEM, 1, "1000.00", "")],
                    );
                }
            }
        }
    }
    // Key drug, February: H1 40 units, H2 10 units (H3 none).
    c.visit(
        &format!("{}p0", h(1)),
        &h(1),
        "11",
        "2024-02-05",
        &[(DRUG_A, 40, "5.00", "")],
    );
    c.visit(
        &format!("{}p0", h(2)),
        &h(2),
        "11",
        "2024-02-05",
        &[(DRUG_A, 10, "5.00", "")],
    );
    // Drug resale at the pharmacies.
    let (p1, p2) = ("P33010200001", "P33010200002");
    for d in ["03", "10", "17", "24"] {
        c.visit(
            "Q",
            p1,
            "41",
            &format!("2024-03-{d}"),
            &[(DRUG_B, 1, "20.00", "")],
        );
    }
    c.visit(
        "R",
        p1,
        "41",
        "2024-03-03",
        &[(DRUG_B, 1, "20.00", CODE_R1)],
    );
    c.visit(
        "R",
        p2,
        "41",
        "2024-03-20",
        &[(DRUG_B, 1, "20.00", CODE_R2)],
    );
    // R's first box is settled again for S in April (回流药).
    c.visit(
        "S",
        p2,
        "41",
        "2024-04-02",
        &[(DRUG_B, 1, "20.00", &format!("{CODE_R1};{CODE_S}"))],
    );
    for d in ["03", "10", "17"] {
        c.visit(
            "T",
            p1,
            "41",
            &format!("2024-03-{d}"),
            &[(DRUG_B, 1, "20.00", "")],
        );
    }

    let mut fixmedins =
        String::from("fixmedins_code,fixmedins_name,fixmedins_type,hosp_lv,admdvs\n");
    for k in 1..=4 {
        writeln!(fixmedins, "{},第{k}医院,1,1,330102", h(k)).unwrap();
    }
    writeln!(fixmedins, "{p1},甲药店,2,,330102").unwrap();
    writeln!(fixmedins, "{p2},乙药店,2,,330102").unwrap();
    let mut psn = String::from("psn_no,gend,brdy,insutype\n");
    for p in &c.psn {
        writeln!(psn, "{p},1,1970-01-01,310").unwrap();
    }
    let catalog = format!(
        "med_list_codg,med_list_name,list_type,med_chrgitm_type,chrgitm_lv\n\
         {DRUG_A},奥拉西坦注射液,1,09,2\n{DRUG_B},阿莫西林胶囊,1,09,1\n{ITEM},一般诊疗费,3,05,1\n"
    );
    let files = [
        ("fixmedins", fixmedins),
        ("psn", psn),
        ("catalog", catalog),
        ("mdtrt", format!("mdtrt_id,psn_no,fixmedins_code,med_type,begntime,endtime,diag_code\n{}", c.mdtrt)),
        ("setl", format!("setl_id,mdtrt_id,psn_no,fixmedins_code,setl_time,medfee_sumamt,hifp_pay\n{}", c.setl)),
        (
            "fee",
            format!(
                "feedetl_sn,mdtrt_id,setl_id,psn_no,fixmedins_code,fee_ocur_time,med_list_codg,cnt,pric,det_item_fee_sumamt,drug_trac_codg\n{}",
                c.fee
            ),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(format!("{name}.csv")), text).unwrap();
    }
}

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/models")
}

fn run() -> Vec<Finding> {
    let tmp = tempfile::tempdir().unwrap();
    let batch = tmp.path().join("batch");
    std::fs::create_dir(&batch).unwrap();
    build(&batch);
    let data = tmp.path().join("data");
    let mut store = medfund_store::Store::open(&data).unwrap();
    let report = store.load_batch(&batch, &Default::default(), None).unwrap();
    assert_eq!(report.total().quarantined, 0, "the fixture is valid input");
    drop(store);
    medfund_models::run_models(&data, &models_dir()).unwrap()
}

fn of<'a>(f: &'a [Finding], model: &str) -> Vec<&'a Finding> {
    f.iter().filter(|f| f.rule_id.starts_with(model)).collect()
}

#[test]
fn the_three_national_models() {
    let all = run();

    // 虚假住院: March rates per 1,000 patients 100, 100, 200, 600 → median 150; 600 > 300 and
    // 6 admissions → H4 flagged, ratio 4.00. April: 100, 100, 100, 400 but only 4 admissions.
    let fa = of(&all, "model.false_admission");
    assert_eq!(fa.len(), 1, "{fa:#?}");
    let f = fa[0];
    assert_eq!(f.rule_id, "model.false_admission.2024-03");
    assert_eq!(f.fixmedins_code.as_deref(), Some(h(4).as_str()));
    assert_eq!(
        (f.category, f.level, f.result, f.severity),
        (
            Category::ProviderOutlier,
            Level::Fixmedins,
            Outcome::Suspect,
            3
        )
    );
    let d = &f.evidence.details;
    assert_eq!(d["admissions"], 6);
    assert_eq!(d["patients"], 10);
    assert_eq!(d["rate"], 600.0);
    assert_eq!(d["peer_median"], 150.0);
    assert_eq!(d["peer_count"], 4);
    assert_eq!(d["ratio"], 4.0);
    assert!(
        f.evidence
            .text
            .starts_with("第4医院（H33010200004）2024-03 收治住院 6 人次"),
        "{}",
        f.evidence.text
    );

    // 倒卖医保药品: Q 4 purchases (80.00, severity 2); R 2 purchases with a box settled again
    // for S (severity 3, 40.00). T (3 purchases) and S (1) are not flagged.
    let dr = of(&all, "model.drug_resale");
    let who: Vec<&str> = dr.iter().map(|f| f.psn_no.as_deref().unwrap()).collect();
    assert_eq!(who, vec!["Q", "R"], "{dr:#?}");
    let (q, r) = (dr[0], dr[1]);
    assert_eq!(q.rule_id, "model.drug_resale.2024-03");
    assert_eq!(
        (q.category, q.level),
        (Category::DoctorShopping, Level::Psn)
    );
    assert_eq!(q.med_list_codg.as_deref(), Some(DRUG_B));
    assert_eq!((q.severity, q.amount), (2, Some(Fen(8000))));
    assert_eq!(q.evidence.details["purchases"], 4);
    assert_eq!(q.evidence.details["reused_codes"], 0);
    assert_eq!((r.severity, r.amount), (3, Some(Fen(4000))));
    assert_eq!(r.evidence.details["institutions"], 2);
    assert_eq!(r.evidence.details["reused_codes"], 1);
    assert!(
        r.evidence.text.contains("1 个药品追溯码被重复结算"),
        "{}",
        r.evidence.text
    );
    assert_ne!(q.finding_id, r.finding_id);

    // 重点药品: H1 40 → 100 units (×2.5, +60) flagged with 500.00; H2 10 → 50 (+40 < 50) and
    // H3 (no February volume) are not.
    let kd = of(&all, "model.key_drug_spike");
    assert_eq!(kd.len(), 1, "{kd:#?}");
    let k = kd[0];
    assert_eq!(k.rule_id, "model.key_drug_spike.2024-03");
    assert_eq!(k.fixmedins_code.as_deref(), Some(h(1).as_str()));
    assert_eq!(k.med_list_codg.as_deref(), Some(DRUG_A));
    assert_eq!(k.amount, Some(Fen(50000)));
    assert_eq!(k.evidence.details["ratio"], 2.5);
    assert_eq!(k.evidence.details["drug_name"], "奥拉西坦");
    assert!(k.evidence.text.contains("用量 100"), "{}", k.evidence.text);

    // Nothing else, and the ids are stable across runs.
    assert_eq!(all.len(), 4);
    let again = run();
    let ids = |v: &[Finding]| v.iter().map(|f| f.finding_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&all), ids(&again));
}

#[test]
fn a_new_model_is_a_file() {
    // An analyst's model over the same store: visits per institution, with a CSV table.
    let tmp = tempfile::tempdir().unwrap();
    let batch = tmp.path().join("batch");
    std::fs::create_dir(&batch).unwrap();
    build(&batch);
    let data = tmp.path().join("data");
    medfund_store::Store::open(&data)
        .unwrap()
        .load_batch(&batch, &Default::default(), None)
        .unwrap();
    let dir = tmp.path().join("models");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("watch.csv"),
        "fixmedins_code,reason\nH33010200002,群众举报\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("watch.sql"),
        "-- id = \"local.watch\"\n-- name = \"举报机构就诊量\"\n-- category = \"provider_outlier\"\n\
         -- keys = [\"fixmedins_code\"]\n-- evidence = \"{fixmedins_code}（{reason}）就诊 {visits} 人次\"\n\
         SELECT m.fixmedins_code, w.reason, COUNT(*) AS visits FROM mdtrt m JOIN watch w USING (fixmedins_code)\n\
         GROUP BY m.fixmedins_code, w.reason\n",
    )
    .unwrap();
    let f = medfund_models::run_models(&data, &dir).unwrap();
    assert_eq!(f.len(), 1);
    // H2: 20 outpatient visits, 2 admissions, 1 February visit = 23.
    assert_eq!(f[0].evidence.text, "H33010200002（群众举报）就诊 23 人次");
    assert_eq!(f[0].rule_id, "local.watch");
    // A template naming a column the query lacks is refused with the column's name.
    std::fs::write(
        dir.join("watch.sql"),
        std::fs::read_to_string(dir.join("watch.sql"))
            .unwrap()
            .replace("{reason}", "{why}"),
    )
    .unwrap();
    let e = medfund_models::run_models(&data, &dir).unwrap_err();
    assert!(format!("{e:#}").contains("'why'"), "{e:#}");
    // Broken SQL names the model.
    std::fs::write(dir.join("watch.sql"), "-- id = \"local.watch\"\n-- name = \"x\"\n-- category = \"provider_outlier\"\n-- keys = [\"fixmedins_code\"]\n-- evidence = \"x\"\nSELECT nonsense FROM nowhere\n").unwrap();
    let e = medfund_models::run_models(&data, &dir).unwrap_err();
    assert!(format!("{e:#}").contains("local.watch"), "{e:#}");
}

#[test]
fn shipped_models_parse() {
    let models = medfund_models::load_models(&models_dir()).unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "model.drug_resale",
            "model.false_admission",
            "model.key_drug_spike"
        ]
    );
}
