// The declaration in include/libfuzzer.h is all this module provides; SwiftPM wants a source file.
#include "libfuzzer.h"
