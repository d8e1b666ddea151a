#ifndef TALLY_CLINUX_H
#define TALLY_CLINUX_H

/// Atomically exchanges two paths (Linux renameat2 with RENAME_EXCHANGE): both must exist.
/// Returns 0, or -1 with errno set (ENOSYS or EINVAL where the kernel or file system lacks it).
int tally_rename_exchange(const char *from, const char *to);

#endif
