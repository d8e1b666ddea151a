#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include "clinux.h"

int tally_rename_exchange(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
}

void tally_use_one_malloc_arena(void) {
    mallopt(M_ARENA_MAX, 1);
}
