//! A text file's bytes, mapped from the page cache rather than copied out of it.
//!
//! Reading a 1.5 GB extract with `read()` copies every byte from the kernel's page cache into a
//! buffer: 0.35 s of CPU measured here, on a core the parse needs. Mapping the file shows the
//! page-cache pages themselves (0.1 s, the scan for quotes included), and the reader drops each
//! block's pages from its address space once the block is absorbed, so resident memory stays a
//! few blocks however large the file is.
//!
//! The same caveat as any mapped reader (ripgrep maps large files the same way): a file that
//! another process truncates while it is being read ends the process with `SIGBUS`. Nothing is
//! written before a batch is read whole, so the store is untouched; load the file again once
//! the writer has finished.

use std::ops::Range;
use std::path::Path;

/// A whole file's bytes: mapped, or held in memory (decoded GBK text, an empty file, or a file
/// that cannot be mapped, such as a pipe).
pub(crate) enum Text {
    #[cfg(unix)]
    Mapped(Mapping),
    Owned(Vec<u8>),
}

impl Text {
    /// Maps `path`, or reads it when it cannot be mapped.
    pub fn open(path: &Path) -> std::io::Result<Text> {
        #[cfg(unix)]
        {
            let file = std::fs::File::open(path)?;
            let meta = file.metadata()?;
            if meta.len() > 0 && meta.is_file() {
                if let Ok(len) = usize::try_from(meta.len()) {
                    if let Some(m) = Mapping::new(&file, len) {
                        return Ok(Text::Mapped(m));
                    }
                }
            }
        }
        std::fs::read(path).map(Text::Owned)
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            #[cfg(unix)]
            Text::Mapped(m) => m.bytes(),
            Text::Owned(v) => v,
        }
    }

    /// Maps in the pages of `r` ahead of the parse (Linux 5.14+; elsewhere they fault in on
    /// first read, as they would anyway).
    pub fn populate(&self, r: Range<usize>) {
        #[cfg(target_os = "linux")]
        if let Text::Mapped(m) = self {
            // Linux's value; the libc crate exports it only for some targets.
            const MADV_POPULATE_READ: libc::c_int = 22;
            m.advise(r, MADV_POPULATE_READ);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = r;
    }

    /// Drops the pages of `r` from this process's address space; they stay in the page cache.
    /// Reading them again would only map them in again.
    pub fn release(&self, r: Range<usize>) {
        #[cfg(unix)]
        if let Text::Mapped(m) = self {
            m.advise(r, libc::MADV_DONTNEED);
        }
        #[cfg(not(unix))]
        let _ = r;
    }
}

/// A read-only private mapping of a whole file.
#[cfg(unix)]
pub(crate) struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value; sharing `&[u8]` views of it across
// threads is like sharing a `Vec<u8>`.
#[cfg(unix)]
unsafe impl Send for Mapping {}
#[cfg(unix)]
unsafe impl Sync for Mapping {}

#[cfg(unix)]
impl Mapping {
    fn new(file: &std::fs::File, len: usize) -> Option<Mapping> {
        use std::os::unix::io::AsRawFd;
        // SAFETY: a fresh read-only private mapping of `len` bytes of an open file; the kernel
        // picks the address. Failure is reported as MAP_FAILED and handled by reading instead.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then_some(Mapping { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes for as long as `self` lives (see the module
        // note on files truncated by another process meanwhile).
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }

    /// `madvise` over the whole pages inside `r`.
    fn advise(&self, r: Range<usize>, advice: libc::c_int) {
        const PAGE: usize = 4096;
        let base = self.ptr as usize;
        let lo = (base + r.start).div_ceil(PAGE) * PAGE;
        let hi = (base + r.end.min(self.len)) / PAGE * PAGE;
        if hi > lo {
            // SAFETY: [lo, hi) lies inside this mapping. Both advices used here leave the bytes
            // a reader sees unchanged: populating maps pages in, and dropping a read-only
            // private file page only means the next read maps it in again from the file.
            unsafe {
                libc::madvise(lo as *mut libc::c_void, hi - lo, advice);
            }
        }
    }
}

#[cfg(unix)]
impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping this value owns; no view of it outlives `self`.
        unsafe {
            libc::munmap(self.ptr, self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapped_file_reads_like_the_file() {
        let dir = std::env::temp_dir().join(format!("medfund-mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("t.csv");
        let body: Vec<u8> = (0..3 * 4096 + 17).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&p, &body).unwrap();
        let t = Text::open(&p).unwrap();
        assert_eq!(t.bytes(), &body[..]);
        // Dropping and populating pages changes nothing a reader sees.
        t.release(0..body.len());
        assert_eq!(t.bytes(), &body[..]);
        t.populate(100..9000);
        assert_eq!(t.bytes()[8191], body[8191]);
        // An empty file is not mapped (a zero-length mapping is an error).
        std::fs::write(&p, b"").unwrap();
        assert!(Text::open(&p).unwrap().bytes().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
