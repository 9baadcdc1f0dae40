/* form.h - application/x-www-form-urlencoded fields (form bodies and query
 * strings), decoded with their lengths.
 *
 * A value is handed over with its decoded length, so "%00" is seen as the
 * NUL byte it is and never cuts a value short ("tin-tuc%00" is not
 * "tin-tuc"). Owns: splitting on '&' and '=', decoding '+' and %XX. Must
 * not know what the fields mean. */
#ifndef THAMDO_FORM_H
#define THAMDO_FORM_H

#include <stddef.h>

/* Called once per field; key and value are NUL-terminated copies valid only
 * during the call (value may hold NUL bytes before value[value_len]).
 * Returns 0 to go on, non-zero to stop. */
typedef int form_field_fn(void *arg, const char *key, size_t key_len, const char *value,
                          size_t value_len);

/* Walks the fields of s[0..len). Empty fields ("a=1&&b=2") are skipped; a
 * field without '=' has an empty value. Returns 0, or the first non-zero
 * value of fn. */
int form_each(const char *s, size_t len, form_field_fn *fn, void *arg);

#endif
