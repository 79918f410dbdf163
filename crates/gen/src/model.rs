//! In-memory shapes of one person's year before it is written: visits, lines, marks.

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A fee line under construction.
#[derive(Clone, Debug)]
pub struct Line {
    /// Seconds since the start of day 0 (1 January of the year).
    pub t: i64,
    /// Catalog index.
    pub item: u16,
    /// Quantity in 1e-4 units.
    pub cnt: i64,
    /// Unit price in micro-yuan.
    pub pric: i64,
    /// Billing personnel index.
    pub dr: u32,
    /// Prescription number (per person) for pharmacy lines.
    pub rxno: Option<u32>,
    /// Traceability codes (numbers; written as 20 digits).
    pub trace: Vec<u64>,
    /// 1-based index into the visit's marks, 0 = none.
    pub mark: u8,
}

impl Line {
    /// Amount in fen (`cnt × pric`, half up).
    pub fn amount(&self) -> i64 {
        medfund_contract::money::Qty(self.cnt)
            .times(medfund_contract::money::Price(self.pric))
            .0
    }
}

/// An identity verification event at the visit's institution.
#[derive(Clone, Copy, Debug)]
pub struct Idv {
    pub t: i64,
    /// 0 face, 1 vein, 2 card.
    pub way: u8,
    pub pass: bool,
}

/// An e-prescription line issued at a visit.
#[derive(Clone, Debug)]
pub struct RxLine {
    pub no: u32,
    pub t: i64,
    pub item: u16,
    pub cnt: i64,
    pub pract: u32,
    pub valid_days: u8,
}

/// A planted case (violation or clean boundary) recorded in the manifest.
#[derive(Clone, Debug)]
pub struct Mark {
    pub category: &'static str,
    /// fee, mdtrt, psn or fixmedins.
    pub level: &'static str,
    /// true: a boundary case on which no finding is expected.
    pub clean: bool,
    /// Expected amount in fen, where DOMAIN §4.1 defines one.
    pub amount: Option<i64>,
    /// Catalog code to report for psn-level marks.
    pub item: Option<u16>,
    pub note: String,
}

/// A visit with everything it produces.
#[derive(Clone, Debug)]
pub struct Visit {
    pub inst: u16,
    pub med_type: &'static str,
    pub begn: i64,
    pub end: Option<i64>,
    pub diag: &'static str,
    pub further: Vec<&'static str>,
    pub atddr: u32,
    pub emer: bool,
    pub refl: Option<u16>,
    pub drg: Option<String>,
    pub lines: Vec<Line>,
    pub idv: Vec<Idv>,
    pub rx: Vec<RxLine>,
    pub marks: Vec<Mark>,
    /// Marks on the visit itself (mdtrt / psn level): indices into `marks`.
    pub visit_marks: Vec<u8>,
}

impl Visit {
    /// An empty visit.
    pub fn new(
        inst: u16,
        med_type: &'static str,
        begn: i64,
        diag: &'static str,
        atddr: u32,
    ) -> Visit {
        Visit {
            inst,
            med_type,
            begn,
            end: None,
            diag,
            further: Vec::new(),
            atddr,
            emer: med_type == "13",
            refl: None,
            drg: None,
            lines: Vec::new(),
            idv: Vec::new(),
            rx: Vec::new(),
            marks: Vec::new(),
            visit_marks: Vec::new(),
        }
    }
    /// Whether this is an inpatient stay.
    pub fn inpatient(&self) -> bool {
        medfund_contract::codes::is_inpatient(self.med_type)
    }
    /// Whether `item` is already billed on this visit.
    pub fn has(&self, item: u16) -> bool {
        self.lines.iter().any(|l| l.item == item)
    }
    /// Adds a mark on the last line pushed.
    pub fn mark_last_line(&mut self, m: Mark) {
        self.marks.push(m);
        let k = self.marks.len() as u8;
        self.lines.last_mut().expect("a line to mark").mark = k;
    }
    /// Adds a mark on the visit.
    pub fn mark_visit(&mut self, m: Mark) {
        self.marks.push(m);
        self.visit_marks.push(self.marks.len() as u8);
    }
    /// Sum of the line amounts in fen.
    pub fn total(&self) -> i64 {
        self.lines.iter().map(Line::amount).sum()
    }
}
