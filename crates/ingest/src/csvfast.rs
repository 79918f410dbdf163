//! The text readers (CSV and JSON Lines): a streaming, parallel, quote-aware parser.
//!
//! The file is mapped ([`crate::mapped`]) and parsed in blocks of `8 × threads × 2 MB`. Each
//! block ends after its last complete record. The block is split into ~2 MB chunks at record
//! boundaries and the chunks are parsed on all cores while the next block is mapped in, hashed
//! and scanned for quotes, and the previous block's records are folded into the table in file
//! order (duplicates resolved there).
//!
//! Record boundaries: when a block holds no `"` at all, every `\n` ends a record. Otherwise a `\n`
//! ends a record when the number of `"` since the block start is even — exact for RFC 4180, where
//! quotes only open at a field start and literal quotes are doubled. A malformed quote can only
//! mislead the split in the same region, where the strict chunk parser refuses the physical line
//! and resumes at the next one, so the rest of the file still loads.

use crate::fields::{Layout, Problem, Row};
use crate::load::{ChunkOut, Env, FileError, Pool, Sink, Span};
use crate::mapped::Text;
use crate::tables::Record;
use crate::{jsonl, BatchError, Format, SourceFile};
use memchr::{memchr, memchr2, memchr2_iter, memchr_iter, memrchr};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::io;
use std::ops::Range;
use std::path::Path;

pub(crate) static T_PARSE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub(crate) static T_ABSORB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Target chunk size for one parallel task.
pub(crate) const CHUNK: usize = 2 << 20;

pub(crate) fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> BatchError + '_ {
    move |e| BatchError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

fn count_quotes(b: &[u8]) -> usize {
    // A plain byte count: the compiler vectorises it, unlike an iterator over matches.
    b.iter().filter(|&&c| c == b'"').count()
}

/// The end (exclusive, after the `\n`) of the first record ending at or after `t`, counting quote
/// parity from `start` (a record start).
fn next_boundary(b: &[u8], start: usize, t: usize, quotes: bool) -> Option<usize> {
    if !quotes {
        return memchr(b'\n', &b[t..]).map(|i| t + i + 1);
    }
    let mut odd = count_quotes(&b[start..t]) % 2 == 1;
    for p in memchr2_iter(b'"', b'\n', &b[t..]) {
        let p = t + p;
        if b[p] == b'"' {
            odd = !odd;
        } else if !odd {
            return Some(p + 1);
        }
    }
    None
}

/// The end of the last complete record in `b` (which starts at a record start).
fn last_boundary(b: &[u8], quotes: bool) -> Option<usize> {
    let mut end = memrchr(b'\n', b)?;
    if !quotes {
        return Some(end + 1);
    }
    let mut odd = count_quotes(&b[..end]) % 2 == 1;
    while odd {
        let prev = memrchr(b'\n', &b[..end])?;
        odd ^= count_quotes(&b[prev..end]) % 2 == 1;
        end = prev;
    }
    Some(end + 1)
}

/// Where the block starting at `rest[0]` (a record start) ends, given its first `lim` bytes and
/// whether they hold a quote: after the last complete record in them, or after the record that
/// runs past them when none ends inside. Returns the end and whether the block holds a quote.
fn block_end(
    rest: &[u8],
    lim: usize,
    quotes: bool,
    has_quotes: impl Fn(&[u8]) -> bool,
) -> (usize, bool) {
    if lim >= rest.len() {
        return (rest.len(), quotes);
    }
    match last_boundary(&rest[..lim], quotes) {
        Some(c) if c > 0 => (c, quotes),
        _ => {
            let c = next_boundary(rest, 0, lim, true).unwrap_or(rest.len());
            (c, has_quotes(&rest[..c]))
        }
    }
}

/// Splits `b` into ~`target`-byte ranges at record boundaries.
pub(crate) fn split_chunks(b: &[u8], target: usize, quotes: bool) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < b.len() {
        let t = start + target;
        if t >= b.len() {
            out.push(start..b.len());
            break;
        }
        match next_boundary(b, start, t, quotes) {
            Some(e) => {
                out.push(start..e);
                start = e;
            }
            None => {
                out.push(start..b.len());
                break;
            }
        }
    }
    out
}

/// Why a CSV record could not be split into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Broken {
    Unclosed,
    JunkAfterQuote,
}

impl Broken {
    fn problem(self) -> Problem {
        match self {
            Broken::Unclosed => Problem::new(
                None,
                "CSV 引号未闭合（该行已隔离，其后各行继续加载）",
                "unclosed quote in CSV record (this line is quarantined, the following lines load)",
            ),
            Broken::JunkAfterQuote => Problem::new(
                None,
                "CSV 引号字段的结束引号后还有其他字符（字段内的引号须写成两个引号）",
                "characters after the closing quote of a CSV field (a quote inside a field must be doubled)",
            ),
        }
    }
}

fn field_count(got: usize, want: usize) -> Problem {
    Problem::new(
        None,
        format!("字段数 {got} 与表头列数 {want} 不一致"),
        format!("the record has {got} fields but the header has {want}"),
    )
}

/// (end of the record's content, start of the next record, line breaks inside quotes).
pub(crate) type Parsed = Result<(usize, usize, u64), Broken>;

/// Parses one RFC 4180 record starting at `pos`, pushing its fields. Returns the end of the
/// record's content (before `\r\n`), the start of the next record, and how many line breaks
/// quoted fields contained.
pub(crate) fn parse_record<'a>(
    text: &'a str,
    mut pos: usize,
    fields: &mut Vec<Cow<'a, str>>,
) -> Parsed {
    let b = text.as_bytes();
    let n = b.len();
    let mut nl = 0u64;
    loop {
        if pos < n && b[pos] == b'"' {
            let mut seg = pos + 1;
            let mut s = seg;
            let mut owned: Option<String> = None;
            let close = loop {
                let Some(i) = memchr(b'"', &b[s..]) else {
                    return Err(Broken::Unclosed);
                };
                let q = s + i;
                if q + 1 < n && b[q + 1] == b'"' {
                    owned
                        .get_or_insert_with(String::new)
                        .push_str(&text[seg..=q]);
                    seg = q + 2;
                    s = q + 2;
                } else {
                    break q;
                }
            };
            nl += memchr_iter(b'\n', &b[pos + 1..close]).count() as u64;
            fields.push(match owned {
                Some(mut o) => {
                    o.push_str(&text[seg..close]);
                    Cow::Owned(o)
                }
                None => Cow::Borrowed(&text[seg..close]),
            });
            pos = close + 1;
            if pos == n {
                return Ok((n, n, nl));
            }
            match b[pos] {
                b',' => {
                    pos += 1;
                    if pos == n {
                        fields.push(Cow::Borrowed(""));
                        return Ok((n, n, nl));
                    }
                }
                b'\n' => return Ok((pos, pos + 1, nl)),
                b'\r' if pos + 1 == n => return Ok((pos, n, nl)),
                b'\r' if b[pos + 1] == b'\n' => return Ok((pos, pos + 2, nl)),
                // After a quoted field that ran over line breaks, the real fault is most likely
                // an opening quote that was never closed.
                _ if nl > 0 => return Err(Broken::Unclosed),
                _ => return Err(Broken::JunkAfterQuote),
            }
        } else {
            match memchr2(b',', b'\n', &b[pos..]) {
                Some(i) if b[pos + i] == b',' => {
                    fields.push(Cow::Borrowed(&text[pos..pos + i]));
                    pos += i + 1;
                    if pos == n {
                        fields.push(Cow::Borrowed(""));
                        return Ok((n, n, nl));
                    }
                }
                Some(i) => {
                    let p = pos + i;
                    let end = if p > pos && b[p - 1] == b'\r' {
                        p - 1
                    } else {
                        p
                    };
                    fields.push(Cow::Borrowed(&text[pos..end]));
                    return Ok((end, p + 1, nl));
                }
                None => {
                    let end = if n > pos && b[n - 1] == b'\r' {
                        n - 1
                    } else {
                        n
                    };
                    fields.push(Cow::Borrowed(&text[pos..end]));
                    return Ok((end, n, nl));
                }
            }
        }
    }
}

/// End of the physical line starting at `start` (content end, next start).
fn line_end(b: &[u8], start: usize) -> (usize, usize) {
    match memchr(b'\n', &b[start..]) {
        Some(i) => {
            let p = start + i;
            (
                if p > start && b[p - 1] == b'\r' {
                    p - 1
                } else {
                    p
                },
                p + 1,
            )
        }
        None => (b.len(), b.len()),
    }
}

struct CsvShape<'l> {
    layout: &'l Layout,
    ncols: usize,
}

#[inline]
fn emit<R: Record>(
    out: &mut ChunkOut<R>,
    env: &Env,
    shape: &CsvShape,
    fields: &[Cow<str>],
    text: &str,
    span: Span,
) {
    let rec = &text[span.start..span.end];
    if crate::fields::trim(rec).is_empty() {
        return;
    }
    if fields.len() != shape.ncols {
        out.refuse(
            env,
            span.line,
            field_count(fields.len(), shape.ncols),
            rec.to_string(),
        );
        return;
    }
    let row = Row {
        vals: fields,
        idx: &shape.layout.idx,
        numeric: &shape.layout.numeric,
        spec: env.table.spec(),
    };
    out.record(env, &row, shape.layout, span, || rec.to_string());
}

/// Positions of `,` and `\n` in a byte string, in order.
///
/// Fields are short (about a dozen bytes), so a search call per separator costs more than the
/// search itself; this scans 64 bytes at a time into a bit mask and walks its set bits.
pub(crate) struct Separators<'a> {
    bytes: &'a [u8],
    /// Start of the 64-byte block `mask` describes.
    base: usize,
    mask: u64,
}

impl<'a> Separators<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let mask = Self::block_mask(bytes, 0);
        Separators {
            bytes,
            base: 0,
            mask,
        }
    }

    /// Bit `i` set when `bytes[at + i]` is a separator.
    #[inline]
    fn block_mask(bytes: &[u8], at: usize) -> u64 {
        let rest = &bytes[at.min(bytes.len())..];
        if rest.len() >= 64 {
            return mask64(rest[..64].try_into().expect("64 bytes"));
        }
        let mut m = 0u64;
        for (i, &c) in rest.iter().enumerate() {
            if c == b',' || c == b'\n' {
                m |= 1 << i;
            }
        }
        m
    }
}

impl Iterator for Separators<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.mask = Self::block_mask(self.bytes, self.base);
        }
        let i = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.base + i)
    }
}

/// The separator mask of one 64-byte block, with SSE2 (always present on x86-64).
#[cfg(target_arch = "x86_64")]
#[inline]
fn mask64(b: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline; the loads are unaligned loads of 16 bytes
    // each, all inside the 64-byte array.
    unsafe {
        let comma = _mm_set1_epi8(b',' as i8);
        let nl = _mm_set1_epi8(b'\n' as i8);
        let mut m = 0u64;
        for k in 0..4 {
            let v = _mm_loadu_si128(b.as_ptr().add(16 * k) as *const __m128i);
            let hit = _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl));
            m |= (_mm_movemask_epi8(hit) as u32 as u64) << (16 * k);
        }
        m
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn mask64(b: &[u8; 64]) -> u64 {
    let mut m = 0u64;
    for (i, &c) in b.iter().enumerate() {
        m |= u64::from(c == b',' || c == b'\n') << i;
    }
    m
}

/// The fast path: a chunk without any `"`, so every `,` separates and every `\n` ends a record.
fn csv_plain<R: Record>(env: &Env, shape: &CsvShape, pool: &Pool<R>, text: &str) -> ChunkOut<R> {
    let b = text.as_bytes();
    let mut out = pool.take(b.len() / 100 + 1);
    let mut fields: Vec<Cow<str>> = Vec::with_capacity(shape.ncols + 1);
    let (mut rec_start, mut fstart, mut line) = (0usize, 0usize, 0u64);
    for p in Separators::new(b) {
        if b[p] == b',' {
            fields.push(Cow::Borrowed(&text[fstart..p]));
            fstart = p + 1;
        } else {
            let end = if p > fstart && b[p - 1] == b'\r' {
                p - 1
            } else {
                p
            };
            fields.push(Cow::Borrowed(&text[fstart..end]));
            emit(
                &mut out,
                env,
                shape,
                &fields,
                text,
                Span {
                    start: rec_start,
                    end,
                    line,
                },
            );
            fields.clear();
            line += 1;
            rec_start = p + 1;
            fstart = p + 1;
        }
    }
    if rec_start < b.len() {
        let n = b.len();
        let end = if n > fstart && b[n - 1] == b'\r' {
            n - 1
        } else {
            n
        };
        fields.push(Cow::Borrowed(&text[fstart..end]));
        emit(
            &mut out,
            env,
            shape,
            &fields,
            text,
            Span {
                start: rec_start,
                end,
                line,
            },
        );
    }
    out.lines = line;
    out
}

/// The quote-aware path.
fn csv_quoted<R: Record>(env: &Env, shape: &CsvShape, pool: &Pool<R>, text: &str) -> ChunkOut<R> {
    let b = text.as_bytes();
    let mut out = pool.take(b.len() / 120 + 1);
    let mut fields: Vec<Cow<str>> = Vec::with_capacity(shape.ncols + 1);
    let (mut pos, mut line) = (0usize, 0u64);
    while pos < b.len() {
        fields.clear();
        match parse_record(text, pos, &mut fields) {
            Ok((end, next, nl)) if nl > 0 && fields.len() != shape.ncols => {
                // A quote swallowed line breaks and the result does not fit the header: most
                // likely a stray quote. Refuse only its first physical line and go on.
                let _ = (end, next);
                let (le, ln) = line_end(b, pos);
                out.refuse(
                    env,
                    line,
                    Broken::Unclosed.problem(),
                    text[pos..le].to_string(),
                );
                line += 1;
                pos = ln;
            }
            Ok((end, next, nl)) => {
                emit(
                    &mut out,
                    env,
                    shape,
                    &fields,
                    text,
                    Span {
                        start: pos,
                        end,
                        line,
                    },
                );
                line += nl + 1;
                pos = next;
            }
            Err(why) => {
                let (le, ln) = line_end(b, pos);
                out.refuse(env, line, why.problem(), text[pos..le].to_string());
                line += 1;
                pos = ln;
            }
        }
    }
    out.lines = line;
    out
}

/// Parses one chunk; `None` when it is not valid UTF-8. A chunk of a block without any quote
/// is not scanned for quotes again.
fn parse_chunk<R: Record>(
    env: &Env,
    format: Format,
    shape: &CsvShape,
    pool: &Pool<R>,
    bytes: &[u8],
    block_has_quotes: bool,
) -> Option<ChunkOut<R>> {
    let text = std::str::from_utf8(bytes).ok()?;
    Some(match format {
        Format::Jsonl => jsonl::parse_chunk(env, pool, text),
        _ if block_has_quotes && memchr(b'"', bytes).is_some() => {
            csv_quoted(env, shape, pool, text)
        }
        _ => csv_plain(env, shape, pool, text),
    })
}

/// Reads a CSV or JSON Lines file into the sink.
pub(crate) fn read_text<R: Record>(
    env: &Env,
    format: Format,
    sink: &mut Sink<R>,
    gbk: bool,
) -> Result<SourceFile, FileError> {
    let path = env.file;
    let bytes = std::fs::metadata(path).map_err(io_err(path))?.len();
    if gbk {
        let data = std::fs::read(path).map_err(io_err(path))?;
        let sha = if env.digests {
            hex(&Sha256::digest(&data))
        } else {
            String::new()
        };
        let Some(text) =
            encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(&data)
        else {
            return Err(FileError::Fatal(BatchError::Encoding {
                path: path.to_path_buf(),
                detected: "未知编码（既非 UTF-8 也非 GBK/GB18030）/ unknown (neither UTF-8 nor GBK/GB18030)".into(),
            }));
        };
        let text = Text::Owned(text.into_owned().into_bytes());
        drop(data);
        stream(env, format, sink, &text, &mut None)?;
        return Ok(SourceFile {
            table: env.table,
            path: path.to_path_buf(),
            format,
            encoding: "GBK".into(),
            bytes,
            sha256: sha,
        });
    }
    let text = Text::open(path).map_err(io_err(path))?;
    let mut sha = env.digests.then(Sha256::new);
    let bom = stream(env, format, sink, &text, &mut sha)?;
    let sha = sha.map(|s| hex(&s.finalize())).unwrap_or_default();
    Ok(SourceFile {
        table: env.table,
        path: path.to_path_buf(),
        format,
        encoding: if bom { "UTF-8-BOM" } else { "UTF-8" }.into(),
        bytes,
        sha256: sha,
    })
}

/// A block's parsed chunks waiting to be absorbed, and where they came from in the file.
struct Pending<R> {
    outs: Vec<ChunkOut<R>>,
    /// 1-based line of each chunk's first line.
    bases: Vec<u64>,
    /// Each chunk's range in the file's text after `pos`.
    ranges: Vec<Range<usize>>,
    /// Where the block starts in the file's text.
    pos: usize,
}

impl<R> Pending<R> {
    /// The block's bytes in the file's text.
    fn span(&self) -> Range<usize> {
        self.pos..self.pos + self.ranges.last().map_or(0, |r| r.end)
    }
}

/// Absorbs a block's chunks into the table; `text` is the file's text, then drops the block's
/// pages from the address space (the absorbed records no longer point into them).
fn absorb_pending<R: Record>(sink: &mut Sink<R>, env: &Env, p: Pending<R>, text: &Text) {
    let t = std::time::Instant::now();
    let span = p.span();
    let data = &text.bytes()[p.pos..];
    let ranges = &p.ranges;
    sink.absorb(p.outs, env, &p.bases, &|c: usize, s: Span| {
        String::from_utf8_lossy(&data[ranges[c].start + s.start..ranges[c].start + s.end])
            .into_owned()
    });
    text.release(span);
    T_ABSORB.fetch_add(
        t.elapsed().as_micros() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Maps in and hashes the file's bytes from `*ahead` to `to`, in file order, one block ahead of
/// the parse.
fn prepare(text: &Text, sha: &mut Option<Sha256>, ahead: &mut usize, to: usize) {
    if to <= *ahead {
        return;
    }
    text.populate(*ahead..to);
    if let Some(s) = sha {
        s.update(&text.bytes()[*ahead..to]);
    }
    *ahead = to;
}

/// The block loop over a file's text. Returns whether a UTF-8 byte-order mark was skipped.
fn stream<R: Record>(
    env: &Env,
    format: Format,
    sink: &mut Sink<R>,
    text: &Text,
    sha: &mut Option<Sha256>,
) -> Result<bool, FileError> {
    let path = env.file;
    let all = text.bytes();
    let block = CHUNK * rayon::current_num_threads().max(1) * 8;
    let mut ahead = 0;
    prepare(text, sha, &mut ahead, block.min(all.len()));
    let mut pos = 0;
    let bom = all.starts_with(&[0xEF, 0xBB, 0xBF]);
    if bom {
        pos = 3;
    } else if all.starts_with(&[0xFF, 0xFE]) || all.starts_with(&[0xFE, 0xFF]) {
        return Err(FileError::Fatal(BatchError::Encoding {
            path: path.to_path_buf(),
            detected: "UTF-16".into(),
        }));
    }

    let spec = env.table.spec();
    let mut line_base: u64 = 1;
    let (layout, ncols) = if format == Format::Csv {
        let end = next_boundary(&all[pos..], 0, 0, true).unwrap_or(all.len() - pos);
        if end == 0 {
            // An empty file: no header, no rows.
            return Ok(bom);
        }
        let Ok(head) = std::str::from_utf8(&all[pos..pos + end]) else {
            return Err(FileError::NotUtf8);
        };
        let mut names = Vec::new();
        parse_record(head, 0, &mut names).map_err(|why| {
            FileError::Fatal(BatchError::Undecodable {
                path: path.to_path_buf(),
                message: format!(
                    "表头无法解析 / the header cannot be parsed: {}",
                    why.problem().en
                ),
            })
        })?;
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        line_base += memchr_iter(b'\n', &all[pos..pos + end]).count() as u64;
        pos += end;
        (Layout::from_names(spec, &names, &[]), names.len())
    } else {
        (Layout::identity(spec), spec.columns.len())
    };
    let shape = CsvShape {
        layout: &layout,
        ncols,
    };

    // Reserve the table once from the first block's record density, so the record vector is not
    // copied while it grows to millions of rows.
    let sample = &all[pos..(pos + block).min(all.len())];
    if !sample.is_empty() {
        let recs = memchr_iter(b'\n', sample).count().max(1) as u64;
        let est = (all.len() as u64).saturating_mul(recs) / sample.len() as u64;
        sink.reserve((est + est / 50 + 16).min(1 << 31) as usize);
    }

    let has_quotes = |b: &[u8]| format == Format::Csv && memchr(b'"', b).is_some();
    // Whether the next block holds a `"`, when already known: that scan runs in the job that
    // maps the next block in, beside the parse, instead of holding both cores up before it.
    let mut quotes_ahead: Option<bool> = None;
    // The previous block's parsed chunks. They are absorbed while this block is parsed, so that
    // the absorb's serial steps and the parse's last chunks fill each other's idle core.
    let mut pending: Option<Pending<R>> = None;
    let pool = sink.pool.clone();
    while pos < all.len() {
        let rest = &all[pos..];
        let lim = block.min(rest.len());
        let quotes = quotes_ahead
            .take()
            .unwrap_or_else(|| has_quotes(&rest[..lim]));
        let (cut, quotes) = block_end(rest, lim, quotes, has_quotes);
        let data = &rest[..cut];
        let ranges = split_chunks(data, CHUNK, quotes);
        let next = (pos + cut)..(pos + cut + block).min(all.len());
        let t_parse = std::time::Instant::now();
        let ((), (quotes_next, outs)) = rayon::join(
            || {
                if let Some(p) = pending.take() {
                    absorb_pending(sink, env, p, text);
                }
            },
            || {
                rayon::join(
                    || {
                        prepare(text, sha, &mut ahead, next.end);
                        has_quotes(&all[next.clone()])
                    },
                    || {
                        ranges
                            .par_iter()
                            .map(|r| {
                                parse_chunk::<R>(
                                    env,
                                    format,
                                    &shape,
                                    &pool,
                                    &data[r.clone()],
                                    quotes,
                                )
                            })
                            .collect::<Vec<_>>()
                    },
                )
            },
        );
        T_PARSE.fetch_add(
            t_parse.elapsed().as_micros() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        if sink.compact_failed {
            // The table is read again as records (see `Sink::compact_failed`).
            return Ok(bom);
        }
        let mut outs_ok = Vec::with_capacity(outs.len());
        let mut bases = Vec::with_capacity(outs.len());
        let mut base = line_base;
        for out in outs {
            let Some(out) = out else {
                return Err(FileError::NotUtf8);
            };
            bases.push(base);
            base += out.lines;
            outs_ok.push(out);
        }
        line_base = base;
        pending = Some(Pending {
            outs: outs_ok,
            bases,
            ranges,
            pos,
        });
        quotes_ahead = Some(quotes_next);
        pos += cut;
    }
    if let Some(p) = pending.take() {
        absorb_pending(sink, env, p, text);
    }
    // Bytes the blocks did not cover (a header longer than a block) are hashed all the same.
    prepare(text, sha, &mut ahead, all.len());
    Ok(bom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(s: &str) -> (Vec<String>, Parsed) {
        let mut f = Vec::new();
        let r = parse_record(s, 0, &mut f);
        (f.iter().map(|x| x.to_string()).collect(), r)
    }

    #[test]
    fn rfc4180_records() {
        assert_eq!(rec("a,b\nc").0, vec!["a", "b"]);
        assert_eq!(rec("a,b\nc").1, Ok((3, 4, 0)));
        assert_eq!(
            rec("a,\"x,\"\"y\"\"\nz\"\r\nnext").0,
            vec!["a", "x,\"y\"\nz"]
        );
        assert_eq!(rec("a,\"x,\"\"y\"\"\nz\"\r\nnext").1, Ok((13, 15, 1)));
        assert_eq!(rec("a,b,").0, vec!["a", "b", ""]);
        assert_eq!(rec("\"a\",").0, vec!["a", ""]);
        assert_eq!(rec("a,\"b").1, Err(Broken::Unclosed));
        assert_eq!(rec("a,\"b\"c,d").1, Err(Broken::JunkAfterQuote));
        // A quote inside an unquoted field is literal.
        assert_eq!(rec("a,b\"c\n").0, vec!["a", "b\"c"]);
    }

    #[test]
    fn boundaries_respect_quotes() {
        let b = b"h1,h2\n1,\"x\ny\"\n2,z\n3,\"open";
        assert_eq!(last_boundary(b, true), Some(18));
        // From position 7 (before "x\ny") the next record end is after `y"\n`.
        assert_eq!(next_boundary(b, 6, 7, true), Some(14));
        assert_eq!(split_chunks(b, 4, true), vec![0..6, 6..14, 14..25]);
        assert_eq!(split_chunks(b, 4, false), vec![0..6, 6..11, 11..18, 18..25]);
    }

    #[test]
    fn blocks_end_after_their_last_complete_record() {
        let q = |b: &[u8]| b.contains(&b'"');
        let b = b"a,1\nb,2\nc,3\n";
        // The whole rest fits: the block is all of it.
        assert_eq!(block_end(b, 12, false, q), (12, false));
        assert_eq!(block_end(b, 50, false, q), (12, false));
        // Cut inside the third record: the block ends after the second.
        assert_eq!(block_end(b, 10, false, q), (8, false));
        // A record longer than the block is taken whole.
        assert_eq!(block_end(b, 2, false, q), (4, false));
        // A quoted line break is not a record end, even when the quote lies past the limit.
        let b = b"a,\"x\ny\"\nb,2\n";
        assert_eq!(block_end(b, 3, true, q), (8, true));
        assert_eq!(block_end(b, 10, true, q), (8, true));
        assert_eq!(block_end(b, 2, false, q), (8, true));
        // No record end at all: the block runs to the end of the text.
        assert_eq!(block_end(b"a,\"open\nstill", 4, true, q), (13, true));
    }

    #[test]
    fn separators_are_found_like_a_plain_search() {
        // Lengths around the 64-byte blocks, separators at block edges, runs of them, none.
        let mut cases: Vec<Vec<u8>> = vec![vec![], b",".to_vec(), b"\n".to_vec(), b"abc".to_vec()];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in [63, 64, 65, 127, 128, 129, 200, 1000] {
            for density in [2u64, 5, 13, 1000] {
                let v: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        match x % density {
                            0 => b',',
                            1 => b'\n',
                            _ => b'a' + (x % 26) as u8,
                        }
                    })
                    .collect();
                cases.push(v);
            }
        }
        let mut edges = vec![b'x'; 192];
        for i in [0, 63, 64, 127, 128, 191] {
            edges[i] = b',';
        }
        cases.push(edges);
        cases.push(vec![b','; 130]);
        for c in &cases {
            let want: Vec<usize> = memchr2_iter(b',', b'\n', c).collect();
            assert_eq!(Separators::new(c).collect::<Vec<_>>(), want, "{c:?}");
        }
        let open = b"h\n\"p\nq";
        assert_eq!(last_boundary(open, true), Some(2));
        assert_eq!(last_boundary(open, false), Some(5));
    }
}
