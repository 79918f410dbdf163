//! Institutions and personnel of the demo city (static part of the output).

use crate::rng::Rng;

/// City districts (南京市) and the neighbouring city (无锡市) that receives out-of-city referrals.
pub const CITY_AREAS: &[&str] = &[
    "320102", "320104", "320105", "320106", "320111", "320113", "320114", "320115",
];
/// Areas of the other city (first four digits differ from the home city's).
pub const OTHER_AREAS: &[&str] = &["320202", "320205"];
const DISTRICT_NAMES: &[&str] = &[
    "玄武",
    "秦淮",
    "建邺",
    "鼓楼",
    "浦口",
    "栖霞",
    "雨花台",
    "江宁",
];

/// A designated institution.
#[derive(Clone, Debug)]
pub struct Inst {
    pub code: String,
    pub name: String,
    /// 1 medical institution, 2 retail pharmacy.
    pub kind: u8,
    /// 1, 2, 3, 9 for hospitals; 0 for pharmacies (written empty).
    pub lv: u8,
    pub admdvs: &'static str,
    /// In the home city (false: the other city).
    pub local: bool,
    /// Personnel indices by role (doctors exclude the reserved ones).
    pub doctors: Vec<u32>,
    /// Doctors kept out of ordinary billing: they carry the suspension scenarios.
    pub reserved: Vec<u32>,
    pub nurses: Vec<u32>,
    pub pharmacists: Vec<u32>,
}

/// A person holding payment qualification.
#[derive(Clone, Debug)]
pub struct Pract {
    pub code: String,
    pub name: String,
    pub typ: u8,
    pub inst: u16,
}

/// The static city: institutions and personnel.
pub struct City {
    pub insts: Vec<Inst>,
    pub practs: Vec<Pract>,
    /// Local hospitals by level.
    pub tertiary: Vec<u16>,
    pub secondary: Vec<u16>,
    pub primary: Vec<u16>,
    pub unrated: Vec<u16>,
    /// Out-of-city tertiary hospitals.
    pub other_city: Vec<u16>,
    pub pharmacies: Vec<u16>,
    /// The secondary hospital planted as the provider outlier.
    pub outlier: u16,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "玉兰", "志强",
    "海燕",
];

/// A Chinese personal name.
pub fn person_name(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
}

/// Counts of institutions per level for `persons` insured.
pub fn sizes(persons: u64) -> [usize; 6] {
    let per = |k: f64, min: usize| ((persons as f64 / 100_000.0 * k).round() as usize).max(min);
    // tertiary, secondary, primary, unrated, pharmacies, other-city tertiary
    [
        per(2.0, 3),
        per(4.0, 4),
        per(7.0, 5),
        per(1.0, 1),
        per(6.0, 6),
        per(0.5, 2),
    ]
}

/// Builds the institutions and their personnel.
pub fn build(seed: u64, persons: u64, reserve_per_hospital: usize) -> City {
    let mut rng = Rng::new(seed, 0xC17E);
    let [n1, n2, n3, n9, np, no] = sizes(persons);
    let mut insts: Vec<Inst> = Vec::new();
    let mut practs: Vec<Pract> = Vec::new();
    let mut serial = [0u32; 10];
    let mut add = |insts: &mut Vec<Inst>,
                   kind: u8,
                   lv: u8,
                   admdvs: &'static str,
                   name: String,
                   local: bool|
     -> u16 {
        let slot = if kind == 2 { 0 } else { lv as usize };
        serial[slot] += 1;
        let prefix = if kind == 2 { 'P' } else { 'H' };
        let code = format!("{prefix}{admdvs}{:05}", insts.len() + 1);
        insts.push(Inst {
            code,
            name,
            kind,
            lv,
            admdvs,
            local,
            doctors: vec![],
            reserved: vec![],
            nurses: vec![],
            pharmacists: vec![],
        });
        (insts.len() - 1) as u16
    };
    let cn = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    let ord = |i: usize| {
        if i < 10 {
            cn[i].to_string()
        } else {
            format!("{}", i + 1)
        }
    };
    let mut tertiary = vec![];
    for i in 0..n1 {
        let a = CITY_AREAS[i % CITY_AREAS.len()];
        tertiary.push(add(
            &mut insts,
            1,
            1,
            a,
            format!("南京市第{}人民医院", ord(i)),
            true,
        ));
    }
    let mut secondary = vec![];
    for i in 0..n2 {
        let a = CITY_AREAS[(i + 1) % CITY_AREAS.len()];
        let d = DISTRICT_NAMES[(i + 1) % DISTRICT_NAMES.len()];
        let nm = if i < DISTRICT_NAMES.len() {
            format!("南京市{d}区人民医院")
        } else {
            format!("南京市{d}区第{}医院", ord(i / 8))
        };
        secondary.push(add(&mut insts, 1, 2, a, nm, true));
    }
    let mut primary = vec![];
    let streets = [
        "梅园",
        "新街口",
        "朝天宫",
        "湖南路",
        "莫愁湖",
        "兴隆",
        "泰山",
        "尧化",
        "铁心桥",
        "东山",
        "秣陵",
        "淳化",
    ];
    for i in 0..n3 {
        let a = CITY_AREAS[i % CITY_AREAS.len()];
        let st = streets[i % streets.len()];
        let nm = if i < streets.len() {
            format!("{st}街道社区卫生服务中心")
        } else {
            format!("{st}街道第{}社区卫生服务站", ord(i / streets.len()))
        };
        primary.push(add(&mut insts, 1, 3, a, nm, true));
    }
    let mut unrated = vec![];
    for i in 0..n9 {
        let a = CITY_AREAS[(i + 3) % CITY_AREAS.len()];
        unrated.push(add(
            &mut insts,
            1,
            9,
            a,
            format!("仁和门诊部第{}诊所", ord(i)),
            true,
        ));
    }
    let mut pharmacies = vec![];
    let chains = ["国药控股", "老百姓", "益丰", "大参林", "先声再康", "百信"];
    for i in 0..np {
        let a = CITY_AREAS[(i + 2) % CITY_AREAS.len()];
        pharmacies.push(add(
            &mut insts,
            2,
            0,
            a,
            format!("{}大药房(第{}分店)", chains[i % chains.len()], i + 1),
            true,
        ));
    }
    let mut other_city = vec![];
    for i in 0..no {
        let a = OTHER_AREAS[i % OTHER_AREAS.len()];
        other_city.push(add(
            &mut insts,
            1,
            1,
            a,
            format!("无锡市第{}人民医院", ord(i)),
            false,
        ));
    }

    // Personnel: letter + the institution's 6-digit area + 6-digit serial.
    let mut seq = 0u32;
    for (ii, inst) in insts.iter_mut().enumerate() {
        let (d, n, y, j, s, z) = match (inst.kind, inst.lv) {
            (2, _) => (0, 0, 2, 0, 0, 1),
            (_, 1) => (40, 30, 6, 8, 5, 0),
            (_, 2) => (24, 18, 4, 5, 3, 0),
            (_, 3) => (8, 6, 2, 2, 2, 0),
            _ => (3, 2, 1, 0, 1, 0),
        };
        let reserve = if inst.kind == 1 && inst.local && (inst.lv == 1 || inst.lv == 2) {
            reserve_per_hospital
        } else {
            0
        };
        for (letter, typ, count) in [
            ('D', 1u8, d + reserve),
            ('N', 2, n),
            ('Y', 3, y),
            ('J', 4, j),
            ('S', 5, s),
            ('Z', 6, z),
        ] {
            for k in 0..count {
                seq += 1;
                let code = format!("{letter}{}{:06}", inst.admdvs, seq);
                let idx = practs.len() as u32;
                practs.push(Pract {
                    code,
                    name: person_name(&mut rng),
                    typ,
                    inst: ii as u16,
                });
                match typ {
                    1 if k >= d => inst.reserved.push(idx),
                    1 => inst.doctors.push(idx),
                    2 => inst.nurses.push(idx),
                    3 | 6 => inst.pharmacists.push(idx),
                    _ => {}
                }
            }
        }
    }
    let outlier = *secondary.last().expect("at least one secondary hospital");
    City {
        insts,
        practs,
        tertiary,
        secondary,
        primary,
        unrated,
        other_city,
        pharmacies,
        outlier,
    }
}

impl City {
    /// Local secondary and tertiary hospitals (they admit inpatients and carry reserved doctors).
    pub fn admitting(&self) -> Vec<u16> {
        self.tertiary
            .iter()
            .chain(&self.secondary)
            .copied()
            .collect()
    }
    /// Local secondary and tertiary hospitals other than the outlier.
    pub fn admitting_regular(&self) -> Vec<u16> {
        self.admitting()
            .into_iter()
            .filter(|&i| i != self.outlier)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use medfund_contract::codes::{check_fixmedins_code, check_pract_code};

    #[test]
    fn minimum_city_and_code_formats() {
        let c = build(42, 1_000, 3);
        assert_eq!(c.tertiary.len(), 3);
        assert!(
            c.secondary.len() >= 3
                && c.primary.len() >= 5
                && c.unrated.len() == 1
                && c.pharmacies.len() >= 6
        );
        for i in &c.insts {
            check_fixmedins_code(&i.code).unwrap();
        }
        for p in &c.practs {
            check_pract_code(&p.code).unwrap();
        }
        let local4 = &c.insts[c.tertiary[0] as usize].admdvs[..4];
        assert!(c
            .other_city
            .iter()
            .all(|&o| &c.insts[o as usize].admdvs[..4] != local4));
        let big = build(42, 1_000_000, 3);
        let total = big.insts.len();
        assert!(
            (150..=250).contains(&total),
            "{total} institutions for a million persons"
        );
    }
}
