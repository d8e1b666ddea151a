#ifndef TALLY_CLINUX_H
#define TALLY_CLINUX_H

/// Atomically exchanges two paths (Linux renameat2 with RENAME_EXCHANGE): both must exist.
/// Returns 0, or -1 with errno set (ENOSYS or EINVAL where the kernel or file system lacks it).
int tally_rename_exchange(const char *from, const char *to);

/// Makes glibc's malloc use one arena for every thread (mallopt M_ARENA_MAX 1).
void tally_use_one_malloc_arena(void);

/// Asks the CPU to start loading the cache line holding `address` for reading (`write` 0) or
/// writing (`write` 1); only a hint: it never faults, whatever the address.
static inline void tally_prefetch(const void *address, int write) {
    if (write) __builtin_prefetch(address, 1, 3); else __builtin_prefetch(address, 0, 3);
}

#endif
