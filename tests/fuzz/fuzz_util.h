/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c): movl's parsers take
 * file paths, so each input is written to a private temporary file first. */
#ifndef MOVL_FUZZ_UTIL_H
#define MOVL_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Writes data to this process's temporary file ending in suffix (".npz",
 * ".dcm", ...) and returns its path (valid until the next call with the same
 * suffix). Aborts when the file cannot be written: a harness problem, not a finding. */
const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix);

/* A private temporary folder of this process (created once). */
const char *fuzz_dir(void);

/* Sends stdout to /dev/null (harnesses of printing code). */
void fuzz_quiet_stdout(void);

#endif
