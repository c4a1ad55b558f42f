//! The memory of the inverse BWT's walk: an array of up to 900 000 links,
//! read at random.
//!
//! Each step of the walk lands on a random one of ~1 800 4 KiB pages, so
//! with ordinary pages nearly every step also misses the TLB — and on a
//! virtual machine a page-table walk is itself several memory accesses. The
//! array therefore lives in an allocation aligned to 2 MiB that the kernel
//! is asked to back with transparent huge pages (Linux `madvise`; elsewhere,
//! or when the kernel declines, ordinary pages work the same, slower).

/// Links: the largest block (level 9).
const CAPACITY: usize = 900_000;
const HUGE_PAGE_BYTES: usize = 2 << 20;
const HUGE_PAGE_WORDS: usize = HUGE_PAGE_BYTES / 4;

pub struct LinkArray {
    storage: Vec<u32>,
    /// Where the 2 MiB-aligned part of `storage` starts, in words.
    offset: usize,
}

impl Default for LinkArray {
    fn default() -> Self {
        // Zeroed memory of this size comes fresh from the kernel, untouched,
        // so the advice applies before the first page is faulted in.
        let storage = vec![0u32; CAPACITY + HUGE_PAGE_WORDS];
        let address = storage.as_ptr() as usize;
        let offset = (address.next_multiple_of(HUGE_PAGE_BYTES) - address) / 4;
        advise_huge_pages(&storage[offset..offset + CAPACITY]);
        LinkArray { storage, offset }
    }
}

impl LinkArray {
    /// The `CAPACITY` links.
    pub fn slots(&mut self) -> &mut [u32] {
        &mut self.storage[self.offset..self.offset + CAPACITY]
    }
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(memory: &[u32]) {
    let length = std::mem::size_of_val(memory);
    // SAFETY: madvise only changes how the kernel backs these pages, which
    // this allocation owns (start aligned to 2 MiB, so to a page); it never
    // invalidates their contents. A refusal is harmless and ignored.
    unsafe {
        libc::madvise(memory.as_ptr() as *mut libc::c_void, length, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_memory: &[u32]) {}
