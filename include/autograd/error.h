/* autograd/error.h - how the library reports errors.
 *
 * The library never aborts or exits on a user error. A function that fails returns NULL (if it
 * returns a pointer) or -1 (if it returns int) and records a message that names the function and
 * the offending shapes, dtypes or values, for example
 *     ag_matmul: inner dimensions differ: [3,4] @ [5,2]
 * The message is kept per thread until the next failure or ag_clear_error().
 *
 * An op given a NULL input returns NULL and keeps the message already recorded, so a nested
 * expression whose inner op failed reports the inner failure, once.
 */
#ifndef AUTOGRAD_ERROR_H
#define AUTOGRAD_ERROR_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The last error message recorded on this thread ("" if none). The pointer stays valid until
 * the next failing call on this thread. */
const char *ag_last_error(void);

/* True when a message is recorded on this thread. */
bool ag_has_error(void);

/* Forgets the recorded message. */
void ag_clear_error(void);

/* Records a message (printf-style) as the thread's last error. For code built on the library
 * (custom layers, user-defined functions) to report failures the same way the library does. */
void ag_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif
#endif
