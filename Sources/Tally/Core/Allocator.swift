internal import CLinux

/// The process's allocator settings.
public enum Allocator {
    /// One malloc arena for the whole process. glibc gives each thread an arena of its own, and
    /// a run allocates a batch on the reader thread and frees it on a worker or the fold queue,
    /// so memory freed in one arena sits idle while another grows. With one arena the peak
    /// resident size of the benchmark jobs drops by 10–15% (B1 227 → 198 MiB, B2 875 → 777 MiB, B3 288 → 238 MiB)
    /// at no measurable cost in time: threads allocate per batch, never per row.
    /// Call it once, before any thread starts.
    public static func useOneArena() { tally_use_one_malloc_arena() }
}
