//! The knowledge-base catalog of the demo city and the clinical profiles that use it.
//!
//! Entries marked "national" carry real codes and limits copied from the national knowledge-point
//! batches in `kb/nhsa/` (file named in the comment); the rest use synthetic codes in the national
//! formats. Every limit column of DOMAIN.md §3 is exercised by at least one entry.

use std::collections::HashMap;

/// One catalog entry (a row of `catalog.csv`).
#[derive(Clone, Debug)]
pub struct Item {
    /// `med_list_codg`.
    pub code: String,
    /// `med_list_name`.
    pub name: String,
    /// `list_type`: 1 drug, 2 herbal pieces, 3 service item, 4 consumable.
    pub list_type: u8,
    /// `med_chrgitm_type` (01 bed … 14 other).
    pub fee_cat: &'static str,
    /// `chrgitm_lv`: 1 class A, 2 class B, 3 self-pay.
    pub chrgitm_lv: u8,
    /// `pric_uplmt_amt` in fen.
    pub cap: i64,
    /// `lmt_gend` (0 = none).
    pub gend: u8,
    /// `lmt_age_min`.
    pub age_min: Option<u8>,
    /// `lmt_age_max`.
    pub age_max: Option<u8>,
    /// `lmt_hosp_lv` (0 = none).
    pub hosp_lv: u8,
    /// `lmt_med_type`: "", "opt" or "ipt".
    pub med_type: &'static str,
    /// `lmt_dise` prefixes, `;`-separated.
    pub dise: &'static str,
    /// `max_cnt_day` in whole units (0 = none).
    pub max_day: u32,
    /// `max_cnt_mdtrt` in whole units (0 = none).
    pub max_mdtrt: u32,
    /// `excl_codes`.
    pub excl: &'static str,
    /// `incl_codes`.
    pub incl: &'static str,
    /// `rx_only`.
    pub rx_only: bool,
}

impl Item {
    /// Whether this is a drug line (fee categories 09–11).
    pub fn is_drug(&self) -> bool {
        matches!(self.fee_cat, "09" | "10" | "11")
    }
}

/// A clinical profile: a main diagnosis and what is billed for it.
#[derive(Clone, Debug)]
pub struct Profile {
    pub icd: &'static str,
    pub name: &'static str,
    /// 0 any, 1 male only, 2 female only.
    pub gend: u8,
    pub age_min: i32,
    pub age_max: i32,
    /// Outpatient drugs (catalog indices).
    pub op_drugs: Vec<u16>,
    /// Outpatient labs and examinations.
    pub op_tests: Vec<u16>,
    /// Inpatient daily drugs.
    pub ip_drugs: Vec<u16>,
    /// Inpatient tests on admission.
    pub ip_tests: Vec<u16>,
    /// Surgery performed on day 1 of a stay (empty for medical cases).
    pub surgery: Vec<u16>,
    /// DRG ADRG prefix for inpatient settlements, e.g. `ES2`.
    pub adrg: &'static str,
    /// Inpatient `med_type` (21, 22 or 24); empty = never admitted.
    pub ip_med_type: &'static str,
    /// Length-of-stay range in days.
    pub los: (i32, i32),
}

/// The catalog plus named entries the generator refers to.
pub struct Catalog {
    pub items: Vec<Item>,
    pub by_code: HashMap<String, u16>,
    pub profiles: Vec<Profile>,
    /// Drugs sold over the counter at pharmacies (no prescription needed).
    pub otc: Vec<u16>,
    /// General-purpose extra drugs and items for variety in outpatient visits.
    pub filler_drugs: Vec<u16>,
    pub filler_tests: Vec<u16>,
}

/// National codes used by name in the generator and the planted violations.
pub mod code {
    pub const OPT_CONSULT: &str = "001102000010000"; // 普通门诊诊查费 (synthetic use of the national pattern)
    pub const EMER_CONSULT: &str = "001102000030000"; // 急诊诊查费 (b7 从项)
    pub const EMER_MONITOR: &str = "001103000010000"; // 急诊监护费 (b7 主项, b8-1 1/日)
    pub const IPT_CONSULT: &str = "001102000050000"; // 住院诊查费 (b8-1 1/日)
    pub const BED: &str = "001109000010000"; // 普通病房床位费 (b8-1 1/日)
    pub const BED_DOUBLE: &str = "001109000010200"; // 普通病房床位费(双人间)
    pub const NURSING1: &str = "001201000030000"; // Ⅰ级护理 (b8-1 1/日)
    pub const NURSING2: &str = "001201000040000"; // Ⅱ级护理 (b8-1 1/日)
    pub const INFUSION: &str = "001203000040000"; // 静脉输液
    pub const INFUSION_SET: &str = "C1401020010000123456"; // 一次性使用输液器
    pub const GLUCOSE: &str = "002503020010000"; // 葡萄糖测定
    pub const HBA1C: &str = "002503020030000"; // 糖化血红蛋白测定 (b8-4: 1 次/15 天)
    pub const LIVER_PKG: &str = "002503030990000"; // 肝功能常规检查(组套), incl ALT;AST
    pub const ALT: &str = "002503030010000";
    pub const AST: &str = "002503030020000";
    pub const CBC: &str = "002501010150000"; // 血细胞分析
    pub const CT_CHEST: &str = "002102030010000";
    pub const MRI_HEAD: &str = "002103010010000";
    pub const ULTRASOUND_ABD: &str = "002202010010000";
    pub const TVUS: &str = "002202020010000"; // 经阴道B超检查 (b1 女)
    pub const SEMEN: &str = "002501040040000"; // 精液常规检查 (b1 男)
    pub const HAND_EVAL: &str = "003402000050000"; // 手功能评定 (b8-3: 间隔 ≥14 天)
    pub const WEIGHT_SUPPORT: &str = "003402000210000"; // 减重支持系统训练 (b8-3: 支付不超过30天)
    pub const ESTAZOLAM: &str = "XN05CDX115A001010191015"; // 艾司唑仑片 (filler, rx)
    pub const CHILD_MASSAGE: &str = "004500000100000"; // 小儿捏脊治疗 (b1 儿童)
    pub const APPENDECTOMY: &str = "003310030220000"; // 阑尾切除术 (b2 胃肠手术组)
    pub const COLON_RADICAL: &str = "003310030200000"; // 结肠癌根治术 (b2 胃肠手术组)
    pub const CHOLECYSTECTOMY: &str = "003310060020000"; // 胆囊切除术 (b2 肝胆手术组)
    pub const APALUTAMIDE: &str = "XL02BBA326A001010102180"; // 阿帕他胺片 (b1 男)
    pub const EPRISTERIDE: &str = "XG04CBA088A001010101467"; // 爱普列特片 (b1 男)
    pub const BICALUTAMIDE: &str = "XL02BBB085A001010100662"; // 比卡鲁胺片 (b1 男)
    pub const BAOFUKANG: &str = "ZD02BAB0238010105763"; // 保妇康栓 (b1 女)
    pub const AIFU: &str = "ZD03AAA0043010100166"; // 艾附暖宫丸 (b1 女)
    pub const CHILD_COUGH: &str = "ZA06BBX0548010100038"; // 小儿止咳糖浆 (b1 儿童)
    pub const CHILD_LUNG: &str = "ZA04CAE0023010100166"; // 儿童清肺口服液 (b1 儿童)
    pub const CHILD_FEVER: &str = "XN02BEX085N001010100269"; // 小儿氨酚黄那敏颗粒 (b1 儿童)
    pub const OMEGA3: &str = "XB05BAU005B002010101415"; // ω-3鱼油脂肪乳注射液 (b4 住院)
    pub const SHENMAI: &str = "ZA09HAC0101010102129"; // 参麦注射液 (b5 二级)
    pub const DANSHEN_INJ: &str = "ZA12CAD0073010100142"; // 丹参注射液 (b5 二级)
    pub const OZAGREL: &str = "XB01AXA223B002010100156"; // 奥扎格雷钠注射液 (b6 14 天)
    pub const RABIES: &str = "XJ07BGR030B001010101119"; // 人用狂犬病疫苗(Vero细胞) (b3 工伤)
    pub const CLOPIDOGREL: &str = "XB01ACL091A001010190001"; // 氯吡格雷片, lmt_dise
    pub const LEVOFLOXACIN: &str = "XJ01MAL066A001010190002"; // 左氧氟沙星片, lmt_age_min 18
    pub const AMLODIPINE: &str = "XC08CAA097A001010190003"; // 苯磺酸氨氯地平片 (rx)
    pub const METFORMIN: &str = "XA10BAE045A001010190004"; // 盐酸二甲双胍片 (rx)
    pub const INSULIN: &str = "XA10AEG048B002010190005"; // 甘精胰岛素注射液, lmt_dise E10;E11
    pub const CEFTRIAXONE: &str = "XJ01DDT094B001010190006"; // 注射用头孢曲松钠
    pub const SALINE: &str = "XB05BBL079B002010190007"; // 0.9%氯化钠注射液
    pub const PARACETAMOL: &str = "XN02BED077A001010190008"; // 对乙酰氨基酚片 (OTC)
    pub const SUTURE_STAPLER: &str = "C0302010020000345678"; // 一次性吻合器
}

fn it(
    code: &str,
    name: &str,
    list_type: u8,
    fee_cat: &'static str,
    cap_yuan_x100: i64,
    rx_only: bool,
) -> Item {
    Item {
        code: code.to_string(),
        name: name.to_string(),
        list_type,
        fee_cat,
        chrgitm_lv: 1,
        cap: cap_yuan_x100,
        gend: 0,
        age_min: None,
        age_max: None,
        hosp_lv: 0,
        med_type: "",
        dise: "",
        max_day: 0,
        max_mdtrt: 0,
        excl: "",
        incl: "",
        rx_only,
    }
}

fn svc(code: &str, name: &str, fee_cat: &'static str, cap: i64) -> Item {
    it(code, name, 3, fee_cat, cap, false)
}
fn drug(code: &str, name: &str, cap: i64, rx: bool) -> Item {
    let fee_cat = if code.starts_with('Z') { "11" } else { "09" };
    let mut i = it(code, name, 1, fee_cat, cap, rx);
    i.chrgitm_lv = 1;
    i.max_day = 6;
    i
}

/// Real generic names used for synthetic filler drugs (western, then Chinese patent).
const FILLER_WEST: &[(&str, &str, i64, bool)] = &[
    ("J01CA", "阿莫西林胶囊", 1260, true),
    ("J01DC", "头孢呋辛酯片", 2350, true),
    ("J01FA", "阿奇霉素片", 1980, true),
    ("A02BC", "奥美拉唑肠溶胶囊", 1520, true),
    ("A02BC", "雷贝拉唑钠肠溶片", 3260, true),
    ("A03FA", "多潘立酮片", 1180, false),
    ("A07FA", "双歧杆菌三联活菌胶囊", 2480, false),
    ("C09CA", "缬沙坦胶囊", 2850, true),
    ("C10AA", "阿托伐他汀钙片", 3120, true),
    ("B01AC", "阿司匹林肠溶片", 1550, true),
    ("C07AB", "琥珀酸美托洛尔缓释片", 2760, true),
    ("C03CA", "呋塞米片", 600, true),
    ("R05CB", "氨溴索口服溶液", 1890, false),
    ("R06AX", "氯雷他定片", 1650, false),
    ("M01AE", "布洛芬缓释胶囊", 1420, false),
    ("N05CD", "艾司唑仑片", 480, true),
    ("H03AA", "左甲状腺素钠片", 2210, true),
    ("A11CC", "骨化三醇软胶囊", 3680, true),
    ("G04CA", "盐酸坦索罗辛缓释胶囊", 4560, true),
    ("R03AC", "硫酸沙丁胺醇吸入气雾剂", 2630, true),
    ("S01AE", "左氧氟沙星滴眼液", 1840, true),
    ("D06AX", "莫匹罗星软膏", 1570, false),
    ("A10BB", "格列美脲片", 2980, true),
    ("A10BF", "阿卡波糖片", 3340, true),
    ("C08CA", "硝苯地平控释片", 3120, true),
    ("C09AA", "贝那普利片", 2440, true),
    ("N02BE", "复方对乙酰氨基酚片", 760, false),
    ("R05DA", "复方甘草片", 520, false),
    ("A06AD", "乳果糖口服溶液", 3020, false),
    ("M05BA", "阿仑膦酸钠片", 3850, true),
];
const FILLER_CN: &[(&str, &str, i64, bool)] = &[
    ("A01AA", "板蓝根颗粒", 1280, false),
    ("A06BA", "连花清瘟胶囊", 2360, false),
    ("A12BA", "复方丹参滴丸", 2850, true),
    ("A01BA", "感冒清热颗粒", 1560, false),
    ("A06AA", "急支糖浆", 1730, false),
    ("A04AA", "藿香正气水", 980, false),
    ("A12CA", "银杏叶片", 3260, true),
    ("A09AA", "六味地黄丸", 1940, false),
    ("A12DA", "血塞通软胶囊", 3480, true),
    ("A09BA", "补中益气丸", 2150, false),
    ("A05AA", "牛黄解毒片", 680, false),
    ("A17BA", "云南白药胶囊", 3680, false),
];
const FILLER_TESTS: &[(&str, &str, &str, i64)] = &[
    ("04", "尿液分析", "0025010200", 1000),
    ("04", "粪便常规", "0025010300", 800),
    ("04", "血清总胆固醇测定", "0025030601", 700),
    ("04", "血清甘油三酯测定", "0025030602", 700),
    ("04", "血清尿酸测定", "0025030401", 600),
    ("04", "血清肌酐测定", "0025030402", 600),
    ("04", "血清尿素测定", "0025030403", 600),
    ("04", "C-反应蛋白测定", "0025020301", 3000),
    ("04", "凝血酶原时间测定", "0025020101", 1200),
    ("04", "血清钠测定", "0025030501", 500),
    ("04", "甲状腺功能三项", "0025031001", 9000),
    ("04", "乙型肝炎表面抗原测定", "0025040301", 1500),
    ("03", "胸部X线摄影", "0021010400", 6000),
    ("03", "常规心电图检查", "0031070100", 2500),
    ("03", "颈部血管彩色多普勒超声", "0022030100", 12000),
    ("03", "心脏彩色多普勒超声", "0022030200", 18000),
    ("03", "泌尿系B超", "0022020300", 8000),
    ("03", "甲状腺B超", "0022020400", 6000),
    ("03", "腰椎X线摄影", "0021010500", 7000),
    ("03", "肺功能检查", "0031060100", 9000),
    ("05", "雾化吸入", "0012030800", 1500),
    ("05", "换药(小)", "0012110100", 1200),
    ("05", "针刺", "0045000101", 2000),
    ("05", "推拿治疗", "0045000201", 3000),
    ("05", "红外线治疗", "0034010101", 800),
    ("05", "肌肉注射", "0012030100", 300),
];

/// Builds the city's catalog (deterministic; no randomness).
pub fn build() -> Catalog {
    use code::*;
    let mut v: Vec<Item> = Vec::new();
    let mut push = |i: Item| v.push(i);

    // Visits, beds, nursing (national item codes; daily limits as in b8-1).
    let mut x = svc(OPT_CONSULT, "普通门诊诊查费", "02", 1000);
    x.med_type = "opt";
    x.max_day = 1;
    push(x);
    let mut x = svc(EMER_CONSULT, "急诊诊查费", "02", 1500);
    x.med_type = "opt";
    x.max_day = 1;
    push(x);
    let mut x = svc(EMER_MONITOR, "急诊监护费", "07", 6000);
    x.max_day = 1;
    x.excl = "001102000030000"; // b7 第1条: 急诊监护费 × 急诊诊查费 (含监护、床位、诊查、护理)
    push(x);
    let mut x = svc(IPT_CONSULT, "住院诊查费", "02", 2000);
    x.med_type = "ipt";
    x.max_day = 1;
    push(x);
    let mut x = svc(BED, "普通病房床位费", "01", 5000);
    x.med_type = "ipt";
    x.max_day = 1;
    push(x);
    let mut x = svc(BED_DOUBLE, "普通病房床位费(双人间)", "01", 7000);
    x.med_type = "ipt";
    x.max_day = 1;
    push(x);
    let mut x = svc(NURSING1, "Ⅰ级护理", "07", 3600);
    x.med_type = "ipt";
    x.max_day = 1;
    push(x);
    let mut x = svc(NURSING2, "Ⅱ级护理", "07", 2400);
    x.med_type = "ipt";
    x.max_day = 1;
    push(x);
    let mut x = svc(INFUSION, "静脉输液", "05", 1200);
    x.max_day = 3;
    push(x);
    let mut x = it(INFUSION_SET, "一次性使用输液器", 4, "08", 500, false);
    x.max_day = 3;
    push(x);
    let mut x = it(SUTURE_STAPLER, "一次性使用吻合器", 4, "08", 80000, false);
    x.max_mdtrt = 2;
    x.chrgitm_lv = 2;
    push(x);

    // Laboratory.
    push(svc(GLUCOSE, "葡萄糖测定", "04", 600));
    let mut x = svc(HBA1C, "糖化血红蛋白测定", "04", 6000);
    x.max_day = 1;
    push(x);
    let mut x = svc(LIVER_PKG, "肝功能常规检查(组套)", "04", 6000);
    x.incl = "002503030010000;002503030020000";
    x.max_day = 1;
    push(x);
    push(svc(ALT, "丙氨酸氨基转移酶测定", "04", 500));
    push(svc(AST, "天门冬氨酸氨基转移酶测定", "04", 500));
    let mut x = svc(CBC, "血细胞分析", "04", 2000);
    x.max_day = 2;
    push(x);

    // Imaging and examinations.
    let mut x = svc(CT_CHEST, "胸部CT平扫", "03", 18000);
    x.max_mdtrt = 2;
    push(x);
    let mut x = svc(MRI_HEAD, "头颅磁共振平扫", "03", 50000);
    x.max_mdtrt = 1;
    x.lmt_hosp(2);
    push(x);
    let mut x = svc(ULTRASOUND_ABD, "腹部B超", "03", 9000);
    x.max_mdtrt = 2;
    push(x);
    let mut x = svc(TVUS, "经阴道B超检查", "03", 8000);
    x.gend = 2; // b1-item-gender: 女
    push(x);
    let mut x = svc(SEMEN, "精液常规检查", "04", 3000);
    x.gend = 1; // b1-item-gender: 男
    push(x);
    let mut x = svc(HAND_EVAL, "手功能评定", "05", 4000);
    x.max_day = 1;
    push(x);
    let mut x = svc(WEIGHT_SUPPORT, "减重支持系统训练", "05", 6000);
    x.max_day = 1;
    push(x);
    let mut x = svc(CHILD_MASSAGE, "小儿捏脊治疗", "05", 2000);
    x.age_max = Some(14); // b1-item-age: 儿童 0–14
    x.max_day = 1;
    push(x);

    // Surgery (b2 groups).
    for (c, n, cap) in [
        (APPENDECTOMY, "阑尾切除术", 60000),
        (COLON_RADICAL, "结肠癌根治术", 160000),
        (CHOLECYSTECTOMY, "胆囊切除术", 90000),
    ] {
        let mut x = svc(c, n, "06", cap);
        x.med_type = "ipt";
        x.max_mdtrt = 1;
        x.lmt_hosp(2);
        push(x);
    }

    // Drugs with national codes and limits.
    let mut x = drug(APALUTAMIDE, "阿帕他胺片", 112_000, true);
    x.gend = 1;
    x.lmt_hosp(2);
    x.dise = "C61";
    push(x);
    let mut x = drug(EPRISTERIDE, "爱普列特片", 4680, true);
    x.gend = 1;
    push(x);
    let mut x = drug(BICALUTAMIDE, "比卡鲁胺片", 9850, true);
    x.gend = 1;
    x.dise = "C61";
    push(x);
    let mut x = drug(BAOFUKANG, "保妇康栓", 3560, false);
    x.gend = 2;
    push(x);
    let mut x = drug(AIFU, "艾附暖宫丸", 2380, false);
    x.gend = 2;
    push(x);
    for (c, n, cap) in [
        (CHILD_COUGH, "小儿止咳糖浆", 1580),
        (CHILD_LUNG, "儿童清肺口服液", 3260),
        (CHILD_FEVER, "小儿氨酚黄那敏颗粒", 1240),
    ] {
        let mut x = drug(c, n, cap, false);
        x.age_max = Some(14); // b1-drug-age: 儿童
        push(x);
    }
    let mut x = drug(OMEGA3, "ω-3鱼油脂肪乳注射液", 13_800, true);
    x.med_type = "ipt"; // b4: 住院
    x.max_day = 1;
    push(x);
    for (c, n, cap) in [
        (SHENMAI, "参麦注射液", 4_260),
        (DANSHEN_INJ, "丹参注射液", 1_850),
    ] {
        let mut x = drug(c, n, cap, true);
        x.lmt_hosp(2); // b5: 二级及以上
        x.max_day = 2;
        push(x);
    }
    let mut x = drug(OZAGREL, "奥扎格雷钠注射液", 3_980, true);
    x.dise = "I63";
    x.max_day = 2;
    push(x);
    let mut x = drug(RABIES, "人用狂犬病疫苗(Vero细胞)", 6_800, true);
    x.max_day = 1;
    push(x);
    let mut x = drug(CLOPIDOGREL, "硫酸氢氯吡格雷片", 4_720, true);
    x.dise = "I20;I21;I25;I63";
    push(x);
    let mut x = drug(LEVOFLOXACIN, "盐酸左氧氟沙星片", 2_150, true);
    x.age_min = Some(18);
    push(x);
    push(drug(AMLODIPINE, "苯磺酸氨氯地平片", 2_680, true));
    push(drug(METFORMIN, "盐酸二甲双胍片", 1_460, true));
    let mut x = drug(INSULIN, "甘精胰岛素注射液", 17_900, true);
    x.dise = "E10;E11";
    x.max_day = 2;
    push(x);
    let mut x = drug(CEFTRIAXONE, "注射用头孢曲松钠", 1_260, true);
    x.max_day = 2;
    push(x);
    let mut x = drug(SALINE, "0.9%氯化钠注射液", 420, true);
    x.max_day = 4;
    push(x);
    let mut x = drug(PARACETAMOL, "对乙酰氨基酚片", 560, false);
    x.max_day = 3;
    push(x);

    // Synthetic fillers: national code shapes with a 9xxxx manufacturer suffix that the national
    // batches do not use.
    let mut filler_drugs = Vec::new();
    let mut filler_tests = Vec::new();
    for (k, (atc, name, cap, rx)) in FILLER_WEST.iter().enumerate() {
        for (variant, (suffix, mul)) in [("", 1i64), ("(大包装)", 2)].iter().enumerate() {
            let form = if variant == 0 { "A001" } else { "A002" };
            let code = format!("X{atc}X{:03}{form}0101{:05}", 100 + k, 91_000 + k);
            let nm = format!("{name}{suffix}");
            let mut d = drug(&code, &nm, cap * mul, *rx);
            if k % 4 == 0 {
                d.chrgitm_lv = 2;
            }
            v.push(d);
            filler_drugs.push((v.len() - 1) as u16);
        }
    }
    for (k, (atc, name, cap, rx)) in FILLER_CN.iter().enumerate() {
        let code = format!("Z{atc}X{:04}010190{:03}", 500 + k, k);
        let mut d = drug(&code, name, *cap, *rx);
        if k % 3 == 0 {
            d.chrgitm_lv = 2;
        }
        v.push(d);
        filler_drugs.push((v.len() - 1) as u16);
    }
    for (k, (cat, name, stem, cap)) in FILLER_TESTS.iter().enumerate() {
        for variant in 0..3u32 {
            let code = format!("{stem}{:01}{:04}", variant + 1, 9000 + k);
            let nm = match variant {
                0 => name.to_string(),
                1 => format!("{name}(急诊)"),
                _ => format!("{name}(床旁)"),
            };
            let mut t = svc(&code, &nm, cat, cap + variant as i64 * 200);
            t.max_mdtrt = 2;
            v.push(t);
            if variant == 0 {
                filler_tests.push((v.len() - 1) as u16);
            }
        }
    }
    // Herbal pieces (饮片), class B / self-pay, for completeness of list types.
    for (k, name) in [
        "黄芪",
        "当归",
        "党参",
        "白术",
        "茯苓",
        "甘草",
        "川芎",
        "丹参",
        "枸杞子",
        "陈皮",
    ]
    .iter()
    .enumerate()
    {
        let mut t = it(
            &format!("T{:07}", 6_101_000 + k),
            &format!("{name}(饮片)"),
            2,
            "10",
            300 + 40 * k as i64,
            false,
        );
        t.chrgitm_lv = if k % 2 == 0 { 2 } else { 3 };
        v.push(t);
    }
    // Consumables.
    for (k, (name, cap)) in [
        ("一次性使用无菌注射器", 80),
        ("医用脱脂纱布", 300),
        ("一次性使用导尿包", 2500),
        ("静脉留置针", 1800),
    ]
    .iter()
    .enumerate()
    {
        let mut c = it(
            &format!("C14010200{:02}00056789{:01}", 20 + k, k),
            name,
            4,
            "08",
            *cap,
            false,
        );
        c.max_day = 4;
        v.push(c);
    }

    let by_code: HashMap<String, u16> = v
        .iter()
        .enumerate()
        .map(|(i, x)| (x.code.clone(), i as u16))
        .collect();
    assert_eq!(by_code.len(), v.len(), "catalog codes must be unique");
    let ix = |c: &str| -> u16 {
        *by_code
            .get(c)
            .unwrap_or_else(|| panic!("catalog lacks {c}"))
    };
    let name_ix = |n: &str| -> u16 {
        v.iter()
            .position(|x| x.name == n)
            .unwrap_or_else(|| panic!("catalog lacks {n}")) as u16
    };
    let otc: Vec<u16> = filler_drugs
        .iter()
        .copied()
        .filter(|&i| !v[i as usize].rx_only)
        .collect();

    let p = |icd, name, gend, age: (i32, i32)| Profile {
        icd,
        name,
        gend,
        age_min: age.0,
        age_max: age.1,
        op_drugs: vec![],
        op_tests: vec![],
        ip_drugs: vec![],
        ip_tests: vec![],
        surgery: vec![],
        adrg: "",
        ip_med_type: "",
        los: (0, 0),
    };
    let mut profiles = Vec::new();
    // 0: acute upper respiratory infection, adults
    let mut x = p("J06.900", "急性上呼吸道感染", 0, (15, 120));
    x.op_drugs = vec![
        name_ix("阿莫西林胶囊"),
        name_ix("氨溴索口服溶液"),
        ix(PARACETAMOL),
        name_ix("连花清瘟胶囊"),
        ix(LEVOFLOXACIN),
    ];
    x.op_tests = vec![ix(CBC), name_ix("C-反应蛋白测定")];
    profiles.push(x);
    // 1: children with URI
    let mut x = p("J06.900", "急性上呼吸道感染(儿童)", 0, (0, 14));
    x.op_drugs = vec![ix(CHILD_COUGH), ix(CHILD_LUNG), ix(CHILD_FEVER)];
    x.op_tests = vec![ix(CBC), ix(CHILD_MASSAGE)];
    profiles.push(x);
    // 2: pneumonia
    let mut x = p("J18.900", "肺炎", 0, (0, 120));
    x.op_drugs = vec![
        name_ix("头孢呋辛酯片"),
        name_ix("阿奇霉素片"),
        name_ix("氨溴索口服溶液"),
    ];
    x.op_tests = vec![ix(CBC), ix(CT_CHEST)];
    x.ip_drugs = vec![ix(CEFTRIAXONE), ix(SALINE)];
    x.ip_tests = vec![
        ix(CBC),
        ix(CT_CHEST),
        ix(LIVER_PKG),
        name_ix("C-反应蛋白测定"),
    ];
    x.adrg = "ES2";
    x.ip_med_type = "21";
    x.los = (5, 12);
    profiles.push(x);
    // 3: type 2 diabetes (chronic)
    let mut x = p("E11.900", "2型糖尿病", 0, (30, 120));
    x.op_drugs = vec![
        ix(METFORMIN),
        name_ix("格列美脲片"),
        name_ix("阿卡波糖片"),
        ix(INSULIN),
    ];
    x.op_tests = vec![ix(GLUCOSE), name_ix("血清肌酐测定")];
    x.ip_drugs = vec![ix(INSULIN), ix(SALINE)];
    x.ip_tests = vec![ix(GLUCOSE), ix(CBC), ix(LIVER_PKG)];
    x.adrg = "KS1";
    x.ip_med_type = "21";
    x.los = (5, 10);
    profiles.push(x);
    // 4: hypertension (chronic)
    let mut x = p("I10.x00", "原发性高血压", 0, (30, 120));
    x.op_drugs = vec![
        ix(AMLODIPINE),
        name_ix("缬沙坦胶囊"),
        name_ix("硝苯地平控释片"),
        name_ix("贝那普利片"),
    ];
    x.op_tests = vec![name_ix("常规心电图检查"), name_ix("血清钠测定")];
    x.ip_drugs = vec![ix(SALINE), ix(DANSHEN_INJ)];
    x.ip_tests = vec![
        ix(CBC),
        name_ix("常规心电图检查"),
        name_ix("心脏彩色多普勒超声"),
    ];
    x.adrg = "FT2";
    x.ip_med_type = "21";
    x.los = (4, 8);
    profiles.push(x);
    // 5: coronary heart disease (chronic)
    let mut x = p("I25.100", "冠状动脉粥样硬化性心脏病", 0, (40, 120));
    x.op_drugs = vec![
        ix(CLOPIDOGREL),
        name_ix("阿司匹林肠溶片"),
        name_ix("阿托伐他汀钙片"),
        name_ix("复方丹参滴丸"),
    ];
    x.op_tests = vec![name_ix("常规心电图检查"), name_ix("血清总胆固醇测定")];
    x.ip_drugs = vec![ix(SHENMAI), ix(SALINE)];
    x.ip_tests = vec![ix(CBC), name_ix("心脏彩色多普勒超声"), ix(LIVER_PKG)];
    x.adrg = "FR2";
    x.ip_med_type = "21";
    x.los = (5, 10);
    profiles.push(x);
    // 6: cerebral infarction
    let mut x = p("I63.900", "脑梗死", 0, (45, 120));
    x.op_drugs = vec![
        ix(CLOPIDOGREL),
        name_ix("阿托伐他汀钙片"),
        name_ix("银杏叶片"),
    ];
    x.op_tests = vec![name_ix("颈部血管彩色多普勒超声")];
    x.ip_drugs = vec![ix(OZAGREL), ix(SHENMAI), ix(SALINE)];
    x.ip_tests = vec![ix(MRI_HEAD), ix(CBC), name_ix("颈部血管彩色多普勒超声")];
    x.adrg = "BR2";
    x.ip_med_type = "24";
    x.los = (7, 13);
    profiles.push(x);
    // 7: gastritis
    let mut x = p("K29.700", "胃炎", 0, (15, 120));
    x.op_drugs = vec![
        name_ix("奥美拉唑肠溶胶囊"),
        name_ix("雷贝拉唑钠肠溶片"),
        name_ix("多潘立酮片"),
    ];
    x.op_tests = vec![ix(ULTRASOUND_ABD), name_ix("粪便常规")];
    x.ip_drugs = vec![ix(SALINE)];
    x.ip_tests = vec![ix(CBC), ix(ULTRASOUND_ABD)];
    x.adrg = "GZ1";
    x.ip_med_type = "21";
    x.los = (3, 6);
    profiles.push(x);
    // 8: appendicitis (surgical)
    let mut x = p("K35.800", "急性阑尾炎", 0, (6, 90));
    x.op_drugs = vec![name_ix("头孢呋辛酯片")];
    x.op_tests = vec![ix(CBC), ix(ULTRASOUND_ABD)];
    x.ip_drugs = vec![ix(CEFTRIAXONE), ix(SALINE)];
    x.ip_tests = vec![ix(CBC), ix(ULTRASOUND_ABD), ix(LIVER_PKG)];
    x.surgery = vec![ix(APPENDECTOMY)];
    x.adrg = "GD2";
    x.ip_med_type = "24";
    x.los = (4, 7);
    profiles.push(x);
    // 9: gallstones (surgical)
    let mut x = p("K80.200", "胆囊结石", 0, (25, 100));
    x.op_drugs = vec![name_ix("奥美拉唑肠溶胶囊")];
    x.op_tests = vec![ix(ULTRASOUND_ABD), ix(LIVER_PKG)];
    x.ip_drugs = vec![ix(CEFTRIAXONE), ix(SALINE), ix(OMEGA3)];
    x.ip_tests = vec![ix(CBC), ix(ULTRASOUND_ABD), ix(LIVER_PKG)];
    x.surgery = vec![ix(CHOLECYSTECTOMY), ix(SUTURE_STAPLER)];
    x.adrg = "HC2";
    x.ip_med_type = "21";
    x.los = (5, 9);
    profiles.push(x);
    // 10: colon cancer (surgical)
    let mut x = p("C18.900", "结肠恶性肿瘤", 0, (40, 100));
    x.op_drugs = vec![name_ix("乳果糖口服溶液")];
    x.op_tests = vec![ix(CT_CHEST), ix(CBC)];
    x.ip_drugs = vec![ix(CEFTRIAXONE), ix(SALINE), ix(OMEGA3)];
    x.ip_tests = vec![ix(CBC), ix(CT_CHEST), ix(LIVER_PKG)];
    x.surgery = vec![ix(COLON_RADICAL), ix(SUTURE_STAPLER)];
    x.adrg = "GB1";
    x.ip_med_type = "21";
    x.los = (9, 13);
    profiles.push(x);
    // 11: benign prostatic hyperplasia (men)
    let mut x = p("N40.x00", "前列腺增生", 1, (50, 120));
    x.op_drugs = vec![ix(EPRISTERIDE), name_ix("盐酸坦索罗辛缓释胶囊")];
    x.op_tests = vec![name_ix("泌尿系B超"), name_ix("尿液分析")];
    profiles.push(x);
    // 12: prostate cancer (men)
    let mut x = p("C61.x00", "前列腺恶性肿瘤", 1, (55, 120));
    x.op_drugs = vec![ix(BICALUTAMIDE), ix(APALUTAMIDE)];
    x.op_tests = vec![name_ix("泌尿系B超"), ix(CT_CHEST)];
    profiles.push(x);
    // 13: vaginitis (women)
    let mut x = p("N76.000", "阴道炎", 2, (16, 80));
    x.op_drugs = vec![ix(BAOFUKANG)];
    x.op_tests = vec![ix(TVUS), name_ix("尿液分析")];
    profiles.push(x);
    // 14: dysmenorrhea (women)
    let mut x = p("N94.600", "痛经", 2, (13, 50));
    x.op_drugs = vec![ix(AIFU), name_ix("布洛芬缓释胶囊")];
    x.op_tests = vec![ix(TVUS)];
    profiles.push(x);
    // 15: COPD (chronic)
    let mut x = p("J44.900", "慢性阻塞性肺疾病", 0, (45, 120));
    x.op_drugs = vec![name_ix("硫酸沙丁胺醇吸入气雾剂"), name_ix("氨溴索口服溶液")];
    x.op_tests = vec![name_ix("肺功能检查"), name_ix("胸部X线摄影")];
    x.ip_drugs = vec![ix(CEFTRIAXONE), ix(SALINE)];
    x.ip_tests = vec![ix(CBC), ix(CT_CHEST), name_ix("肺功能检查")];
    x.adrg = "ET2";
    x.ip_med_type = "21";
    x.los = (6, 12);
    profiles.push(x);
    // 16: femoral neck fracture (trauma admission)
    let mut x = p("S72.000", "股骨颈骨折", 0, (50, 120));
    x.op_drugs = vec![name_ix("骨化三醇软胶囊"), name_ix("阿仑膦酸钠片")];
    x.op_tests = vec![name_ix("腰椎X线摄影")];
    x.ip_drugs = vec![ix(SALINE), ix(CEFTRIAXONE)];
    x.ip_tests = vec![ix(CBC), name_ix("腰椎X线摄影"), name_ix("凝血酶原时间测定")];
    x.adrg = "IF3";
    x.ip_med_type = "22";
    x.los = (8, 14);
    profiles.push(x);
    // 17: low back pain
    let mut x = p("M54.500", "腰痛", 0, (20, 120));
    x.op_drugs = vec![name_ix("布洛芬缓释胶囊"), name_ix("云南白药胶囊")];
    x.op_tests = vec![
        name_ix("腰椎X线摄影"),
        name_ix("推拿治疗"),
        name_ix("针刺"),
        name_ix("红外线治疗"),
    ];
    profiles.push(x);

    Catalog {
        items: v,
        by_code,
        profiles,
        otc,
        filler_drugs,
        filler_tests,
    }
}

impl Item {
    fn lmt_hosp(&mut self, lv: u8) {
        self.hosp_lv = lv;
    }
}

impl Catalog {
    /// Index of a code that must exist.
    pub fn ix(&self, code: &str) -> u16 {
        *self
            .by_code
            .get(code)
            .unwrap_or_else(|| panic!("catalog lacks {code}"))
    }
    /// The entry at an index.
    pub fn get(&self, i: u16) -> &Item {
        &self.items[i as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use medfund_contract::codes::check_med_list_codg;

    #[test]
    fn codes_are_national_shapes_and_every_limit_kind_is_present() {
        let c = build();
        assert!(
            (200..=400).contains(&c.items.len()),
            "{} entries",
            c.items.len()
        );
        for i in &c.items {
            check_med_list_codg(&i.code).unwrap();
        }
        assert!(c.items.iter().any(|i| i.gend == 1) && c.items.iter().any(|i| i.gend == 2));
        assert!(
            c.items.iter().any(|i| i.age_min.is_some())
                && c.items.iter().any(|i| i.age_max.is_some())
        );
        assert!(c.items.iter().any(|i| i.hosp_lv == 2));
        assert!(
            c.items.iter().any(|i| i.med_type == "opt")
                && c.items.iter().any(|i| i.med_type == "ipt")
        );
        assert!(c.items.iter().any(|i| !i.dise.is_empty()));
        assert!(c.items.iter().any(|i| i.max_day > 0) && c.items.iter().any(|i| i.max_mdtrt > 0));
        assert!(
            c.items.iter().any(|i| !i.excl.is_empty())
                && c.items.iter().any(|i| !i.incl.is_empty())
        );
        assert!(c.items.iter().any(|i| i.rx_only) && c.items.iter().any(|i| i.fee_cat == "01"));
        for i in &c.items {
            for part in i
                .excl
                .split(';')
                .chain(i.incl.split(';'))
                .filter(|s| !s.is_empty())
            {
                assert!(
                    c.by_code.contains_key(part),
                    "{part} referenced by {} is in the catalog",
                    i.code
                );
            }
        }
        assert_eq!(c.get(c.ix(code::APALUTAMIDE)).gend, 1);
    }

    #[test]
    fn profiles_only_use_items_their_patients_may_receive() {
        let c = build();
        for p in &c.profiles {
            for &d in p.op_drugs.iter().chain(&p.op_tests) {
                let i = c.get(d);
                assert_ne!(
                    i.med_type, "ipt",
                    "{} in outpatient profile {}",
                    i.name, p.name
                );
                if i.gend != 0 {
                    assert_eq!(i.gend, p.gend, "{} in {}", i.name, p.name);
                }
                if let Some(m) = i.age_max {
                    assert!(p.age_max <= m as i32, "{} in {}", i.name, p.name);
                }
                if !i.dise.is_empty() {
                    assert!(
                        i.dise.split(';').any(|d| p.icd.starts_with(d)),
                        "{} in {}",
                        i.name,
                        p.name
                    );
                }
            }
            for &d in p.ip_drugs.iter().chain(&p.ip_tests).chain(&p.surgery) {
                let i = c.get(d);
                assert_ne!(
                    i.med_type, "opt",
                    "{} in inpatient profile {}",
                    i.name, p.name
                );
                if !i.dise.is_empty() {
                    assert!(
                        i.dise.split(';').any(|d| p.icd.starts_with(d)),
                        "{} in {}",
                        i.name,
                        p.name
                    );
                }
            }
        }
    }
}
