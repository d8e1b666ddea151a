#ifndef TALLY_FUZZ_LIBFUZZER_H
#define TALLY_FUZZ_LIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, as a library call: parses the command line in `argc`/`argv` and runs
/// `callback` on each input. Defined by the runtime that `-sanitize=fuzzer` links.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
