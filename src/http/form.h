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

#define FORM_VALUE_MAX 128

/* One named parameter of a query string, for form_params(). */
struct form_param {
    const char *name;
    char value[FORM_VALUE_MAX]; /* the first occurrence's value, NUL-terminated */
    int present;
    int bad;       /* its value holds a NUL byte */
    int truncated; /* its value is FORM_VALUE_MAX bytes or longer: value holds its start */
};

/* Reads the named parameters of a query string (NULL: none); other names are
 * ignored. The service's one reader of query strings. Returns -1 when a
 * field has no '=' or an empty name ("?foo", "?=1"), else 0. */
int form_params(const char *query, struct form_param *params, size_t n);

#endif
