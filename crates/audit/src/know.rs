//! Reference data prepared once per audit (or once per pre-check context): the catalog index
//! (code → entry), institutions, suspensions, the active rules and the trigger index that tells
//! which line rules can fire on each catalog code.

use crate::kbrules::KbIndex;
use crate::policy::Policy;
use crate::rules::{Rule, RuleLibrary, Scenario, Stage, Template};
use ahash::AHashMap;
use medfund_contract::records::{
    CatalogEntry, Fixmedins, FixmedinsType, Gender, Mdtrt, MedTypeLimit, PractSusp, Psn,
};
use medfund_contract::{Code, Price, Qty};

/// Everything a check needs besides the person's own data.
pub(crate) struct Knowledge {
    pub catalog: Vec<CatalogEntry>,
    pub code_ix: AHashMap<Code, u32>,
    pub inst: AHashMap<Code, Fixmedins>,
    pub susp: AHashMap<Code, Vec<PractSusp>>,
    /// Active rules: enabled and running at one of the requested stages.
    pub rules: Vec<Rule>,
    /// Per catalog index: the line rules (gender … price) whose code set and limit can fire on it.
    pub line_by_code: Vec<Vec<u16>>,
    /// Line rules that carry their own limit: checked against codes missing from the catalog.
    pub line_uncat: Vec<u16>,
    /// Per template (by discriminant): active rule indices.
    by_template: Vec<Vec<u16>>,
    pub policy: Policy,
    pub kb: Option<KbIndex>,
}

impl Knowledge {
    /// Builds the indices. `catalog` is the batch catalog (with knowledge points merged in).
    pub fn build(
        catalog: Vec<CatalogEntry>,
        fixmedins: &[Fixmedins],
        pract_susp: &[PractSusp],
        lib: &RuleLibrary,
        stages: &[Stage],
        kb: Option<KbIndex>,
        policy: Policy,
    ) -> Knowledge {
        let mut code_ix = AHashMap::with_capacity(catalog.len());
        for (i, e) in catalog.iter().enumerate() {
            // The first entry of a code wins, as the loader keeps the first of a natural key.
            code_ix.entry(e.med_list_codg.clone()).or_insert(i as u32);
        }
        let inst = fixmedins
            .iter()
            .map(|f| (f.fixmedins_code.clone(), f.clone()))
            .collect();
        let mut susp: AHashMap<Code, Vec<PractSusp>> = AHashMap::new();
        for s in pract_susp {
            susp.entry(s.pract_code.clone())
                .or_default()
                .push(s.clone());
        }
        let rules: Vec<Rule> = lib
            .enabled()
            .filter(|r| stages.iter().any(|s| r.runs_at(*s)))
            .cloned()
            .collect();
        let mut by_template: Vec<Vec<u16>> = vec![Vec::new(); Template::ALL.len()];
        for (i, r) in rules.iter().enumerate() {
            by_template[r.template as usize].push(i as u16);
        }
        let line_rules: Vec<u16> = (0..rules.len() as u16)
            .filter(|i| {
                let t = rules[*i as usize].template;
                t.is_line_rule() && t != Template::Suspension
            })
            .collect();
        let line_by_code = catalog
            .iter()
            .map(|e| {
                line_rules
                    .iter()
                    .copied()
                    .filter(|i| {
                        let r = &rules[*i as usize];
                        r.codes.matches(&e.med_list_codg, Some(e.list_type))
                            && has_limit(r, Some(e))
                    })
                    .collect()
            })
            .collect();
        let line_uncat = line_rules
            .iter()
            .copied()
            .filter(|i| has_limit(&rules[*i as usize], None))
            .collect();
        Knowledge {
            catalog,
            code_ix,
            inst,
            susp,
            rules,
            line_by_code,
            line_uncat,
            by_template,
            policy,
            kb,
        }
    }

    /// Active rules of a template, with their indices.
    pub fn rules_of(&self, t: Template) -> impl Iterator<Item = &Rule> {
        self.by_template[t as usize]
            .iter()
            .map(|i| &self.rules[*i as usize])
    }

    /// Whether any rule of the template is active.
    pub fn has(&self, t: Template) -> bool {
        !self.by_template[t as usize].is_empty()
    }

    /// Catalog index of a code.
    #[inline]
    pub fn code(&self, c: &str) -> Option<u32> {
        self.code_ix.get(c).copied()
    }

    /// Whether the visit is an emergency (exempt from the suspension and concurrency checks).
    pub fn is_emergency(&self, m: &Mdtrt) -> bool {
        m.emer_flag
            || self
                .policy
                .emergency_med_types
                .iter()
                .any(|t| t == m.med_type.as_str())
    }

    /// Whether a rule's scenario covers this visit.
    pub fn scenario_ok(
        &self,
        s: Scenario,
        m: &Mdtrt,
        inst: Option<&Fixmedins>,
        psn: Option<&Psn>,
    ) -> bool {
        match s {
            Scenario::All => true,
            Scenario::Inpatient => m.is_inpatient(),
            Scenario::Pharmacy => is_pharmacy(inst, m),
            Scenario::Outpatient => !m.is_inpatient() && !is_pharmacy(inst, m),
            Scenario::OutOfArea => match (
                psn.and_then(|p| p.insuplc_admdvs.as_ref()),
                inst.and_then(|i| i.admdvs.as_ref()),
            ) {
                (Some(a), Some(b)) => a.get(..4) != b.get(..4),
                _ => false,
            },
        }
    }
}

/// A retail pharmacy sale: the institution is a pharmacy (or, when the institution is unknown,
/// the visit type is 41 pharmacy purchase).
pub(crate) fn is_pharmacy(inst: Option<&Fixmedins>, m: &Mdtrt) -> bool {
    match inst {
        Some(i) => i.fixmedins_type == FixmedinsType::Pharmacy,
        None => m.med_type == "41",
    }
}

/// The gender an item is limited to, by the rule's own parameter or the catalog.
pub(crate) fn gender_limit(r: &Rule, e: Option<&CatalogEntry>) -> Option<Gender> {
    r.params
        .gender()
        .or_else(|| e.and_then(|e| e.lmt_gend).filter(|g| *g != Gender::Unknown))
}

/// Age bounds (inclusive, whole years).
pub(crate) fn age_limit(r: &Rule, e: Option<&CatalogEntry>) -> (Option<u16>, Option<u16>) {
    if r.params.age_min.is_some() || r.params.age_max.is_some() {
        (r.params.age_min, r.params.age_max)
    } else {
        e.map(|e| (e.lmt_age_min, e.lmt_age_max))
            .unwrap_or((None, None))
    }
}

/// Highest hosp_lv number allowed.
pub(crate) fn level_limit(r: &Rule, e: Option<&CatalogEntry>) -> Option<u8> {
    r.params
        .max_hosp_lv
        .or_else(|| e.and_then(|e| e.lmt_hosp_lv))
}

/// Visit-type limit.
pub(crate) fn med_type_limit(r: &Rule, e: Option<&CatalogEntry>) -> Option<MedTypeLimit> {
    r.params
        .med_type_limit()
        .or_else(|| e.and_then(|e| e.lmt_med_type))
}

/// Allowed diagnosis prefixes (empty = none).
pub(crate) fn dise_limit<'a>(r: &'a Rule, e: Option<&'a CatalogEntry>) -> &'a [Code] {
    match &r.params.dise_prefixes {
        Some(p) => p,
        None => e.map(|e| e.lmt_dise.as_slice()).unwrap_or(&[]),
    }
}

/// Unit price cap.
pub(crate) fn price_limit(r: &Rule, e: Option<&CatalogEntry>) -> Option<Price> {
    r.params
        .price_cap()
        .or_else(|| e.and_then(|e| e.pric_uplmt_amt))
}

/// Quantity limits per person-day and per visit.
pub(crate) fn freq_limit(r: &Rule, e: Option<&CatalogEntry>) -> (Option<Qty>, Option<Qty>) {
    if r.params.max_cnt_day.is_some() || r.params.max_cnt_mdtrt.is_some() {
        (r.params.max_cnt_day(), r.params.max_cnt_mdtrt())
    } else {
        e.map(|e| (e.max_cnt_day, e.max_cnt_mdtrt))
            .unwrap_or((None, None))
    }
}

fn has_limit(r: &Rule, e: Option<&CatalogEntry>) -> bool {
    match r.template {
        Template::Gender => gender_limit(r, e).is_some(),
        Template::Age => {
            let (a, b) = age_limit(r, e);
            a.is_some() || b.is_some()
        }
        Template::HospLevel => level_limit(r, e).is_some(),
        Template::MedType => med_type_limit(r, e).is_some(),
        Template::Indication => !dise_limit(r, e).is_empty(),
        Template::Price => price_limit(r, e).is_some(),
        _ => false,
    }
}
