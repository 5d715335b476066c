//! Facts about the machine a run needs more than once, and how the run asks the kernel
//! for memory.

/// How many threads can run at once: the machine's cores (or the process's share of
/// them). Read once per process: the answer takes several system calls and files.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Whether this process asked for huge pages ([`use_huge_pages`]): the threads a run
/// starts then ask for them too ([`huge_pages_for_this_thread`]).
static HUGE_PAGES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// glibc's arenas other than the main one are regions of this size, aligned to it
/// (`HEAP_MAX_SIZE` of glibc's malloc/arena.c on 64-bit targets).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENA_HEAP: usize = 64 << 20;

/// Back the allocator's heaps with transparent huge pages where the kernel allows them on
/// request (`madvise` mode). A large site makes tens of megabytes of small allocations:
/// with 4 KiB pages that is about ten thousand page faults, on which the run spent more
/// time than on any one of its parts, and as many pages to free at exit. Each heap
/// reserves 64 MiB of address space at a time (pages cost memory only once touched),
/// large allocations come from the heaps too, and each heap is advised once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn use_huge_pages() {
    // SAFETY: `mallopt` only changes tuning parameters of glibc's allocator, with values
    // it accepts; glibc takes its own lock for it.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, ARENA_HEAP as libc::c_int);
        libc::mallopt(libc::M_MMAP_THRESHOLD, (ARENA_HEAP / 2) as libc::c_int);
    }
    // One allocation larger than what the heap has left grows it by the pad now.
    drop(std::hint::black_box(Vec::<u8>::with_capacity(1 << 20)));
    HUGE_PAGES.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = huge_pages_for_this_thread();
}

/// Without glibc on Linux, nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn use_huge_pages() {}

/// glibc grows the heap of each thread other than the main one by the few pages each
/// allocation lacks, one `mprotect` call at a time: reading a large site on a second
/// thread made thousands of them. A top pad makes every growth (and the main heap's)
/// reserve 16 MiB of address space at once; pages still cost memory only when touched.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn grow_heaps_in_large_steps() {
    // SAFETY: `mallopt` only changes a tuning parameter of glibc's allocator, with a
    // value it accepts; glibc takes its own lock for it.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

/// Without glibc on Linux, nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn grow_heaps_in_large_steps() {}

/// Advise huge pages for the heap this thread allocates from, when [`use_huge_pages`]
/// was called; true when the kernel took the advice. Any failure leaves the heap as it
/// was: the advice is only a hint.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn huge_pages_for_this_thread() -> bool {
    if !HUGE_PAGES.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    let probe = std::hint::black_box(Box::new(0u64));
    let at = &*probe as *const u64 as usize;
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return false;
    };
    let mappings: Vec<(usize, usize, &str)> = maps
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            Some((start, end, fields.nth(4).unwrap_or("")))
        })
        .collect();
    let Some(&(start, end, name)) = mappings.iter().find(|(s, e, _)| (*s..*e).contains(&at)) else {
        return false;
    };
    let range = if name == "[heap]" {
        // The main arena: the program break.
        Some((start, end - start))
    } else if name.is_empty() {
        // Another arena: the aligned region holding the probe, when one starts there.
        let base = at & !(ARENA_HEAP - 1);
        mappings
            .iter()
            .any(|(s, _, n)| *s == base && n.is_empty())
            .then_some((base, ARENA_HEAP))
    } else {
        None
    };
    let Some((addr, len)) = range else {
        return false;
    };
    // SAFETY: MADV_HUGEPAGE changes no content and no protection: it only marks the
    // anonymous mappings of this range as eligible for huge pages.
    unsafe { libc::madvise(addr as *mut libc::c_void, len, libc::MADV_HUGEPAGE) == 0 }
}

/// Without glibc on Linux, nothing to do.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn huge_pages_for_this_thread() -> bool {
    false
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// The `VmFlags` of the mapping that holds `addr`, from /proc/self/smaps.
    fn flags_at(addr: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_once(' ').and_then(|(r, _)| r.split_once('-'));
            if let Some((s, e)) = range {
                if let (Ok(s), Ok(e)) = (usize::from_str_radix(s, 16), usize::from_str_radix(e, 16))
                {
                    inside = (s..e).contains(&addr);
                    continue;
                }
            }
            if let (true, Some(flags)) = (inside, line.strip_prefix("VmFlags:")) {
                return flags.to_string();
            }
        }
        String::new()
    }

    #[test]
    fn the_heap_of_a_thread_is_advised_once_asked() {
        // Before `use_huge_pages`, a thread asks nothing (the other commands' heaps).
        assert!(!std::thread::spawn(huge_pages_for_this_thread)
            .join()
            .unwrap());
        use_huge_pages();
        let (advised, flags) = std::thread::spawn(|| {
            let advised = huge_pages_for_this_thread();
            let probe = std::hint::black_box(Box::new(0u64));
            (advised, flags_at(&*probe as *const u64 as usize))
        })
        .join()
        .unwrap();
        // A kernel without transparent huge pages refuses the advice: nothing to check.
        if advised {
            assert!(flags.split_whitespace().any(|f| f == "hg"), "{flags}");
        }
        assert!(cores() >= 1);
    }
}
