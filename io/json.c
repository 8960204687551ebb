/* io/json.c - a small, strict JSON parser for safetensors headers (see io_internal.h).
 *
 * Headers come from files we did not write, so the parser is written for hostile input: every
 * read is checked against the length (the text need not be NUL-terminated), nesting depth is
 * limited so recursion cannot exhaust the stack, integers are checked for overflow, strings must
 * be valid UTF-8 without raw control characters, and anything after the document other than
 * whitespace is an error. Messages give the byte offset of the problem.
 */
#include <stdio.h>
#include <stdlib.h>

#include "io_internal.h"

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    ag__json *doc;
    int depth;
} parser;

static int fail(parser *p, const char *what)
{
    snprintf(p->doc->err, sizeof p->doc->err, "at byte %zu: %s", p->pos, what);
    return -1;
}

const char *ag__json_type_name(ag__json_type t)
{
    static const char *const names[] = {"an object", "an array", "a string", "an integer",
                                        "a non-integer number", "true/false/null"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

size_t ag__utf8_seq(const unsigned char *s, size_t avail)
{
    if (avail == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

/* Appends a value and returns its index, or -1 (out of memory / too many values). */
static int32_t new_val(parser *p, ag__json_type type)
{
    ag__json *d = p->doc;
    if (d->n == d->cap) {
        if (d->cap >= INT32_MAX / 2) return fail(p, "too many values"), -1;
        int32_t cap = d->cap ? d->cap * 2 : 64;
        ag__json_val *v = realloc(d->v, (size_t)cap * sizeof *v);
        if (!v) return fail(p, "out of memory"), -1;
        d->v = v;
        d->cap = cap;
    }
    ag__json_val *v = &d->v[d->n];
    *v = (ag__json_val){.type = type, .first = -1, .next = -1};
    return d->n++;
}

static int hex4(parser *p, uint32_t *out)
{
    if (p->len - p->pos < 4) return fail(p, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p->s[p->pos + (size_t)i];
        int h = c >= '0' && c <= '9' ? (int)c - '0' : c >= 'a' && c <= 'f' ? (int)c - 'a' + 10
              : c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
        if (h < 0) return fail(p, "bad hex digit in \\u escape");
        v = v * 16 + (uint32_t)h;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static void put_utf8(char *dst, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        dst[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        dst[(*n)++] = (char)(0xC0 | (cp >> 6));
        dst[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        dst[(*n)++] = (char)(0xE0 | (cp >> 12));
        dst[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        dst[(*n)++] = (char)(0xF0 | (cp >> 18));
        dst[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        dst[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* One escape after the backslash: appends its UTF-8 bytes to dst. */
static int escape(parser *p, char *dst, size_t *n)
{
    if (p->pos >= p->len) return fail(p, "unterminated string");
    unsigned char c = p->s[p->pos++];
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    for (int i = 0; from[i]; i++)
        if (c == (unsigned char)from[i]) { dst[(*n)++] = to[i]; return 0; }
    if (c != 'u') return p->pos--, fail(p, "invalid escape in string");
    uint32_t cp, lo;
    if (hex4(p, &cp)) return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(p, "unpaired low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
            return fail(p, "high surrogate not followed by a low surrogate");
        p->pos += 2;
        if (hex4(p, &lo)) return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, "high surrogate not followed by a low surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0) return fail(p, "\\u0000 is not allowed in strings");
    put_utf8(dst, n, cp);
    return 0;
}

/* A string starting at the opening quote; returns its decoded text in the arena. Decoding never
 * grows the text and each string's quotes pay for its NUL, so len + 1 bytes hold all strings. */
static const char *parse_string(parser *p)
{
    ag__json *d = p->doc;
    char *dst = d->strings + d->used;
    size_t n = 0;
    p->pos++; /* opening quote */
    for (;;) {
        if (p->pos >= p->len) return fail(p, "unterminated string"), NULL;
        unsigned char c = p->s[p->pos];
        if (c == '"') break;
        if (c < 0x20) return fail(p, "control character in string"), NULL;
        if (c == '\\') {
            p->pos++;
            if (escape(p, dst, &n)) return NULL;
            continue;
        }
        size_t k = ag__utf8_seq(p->s + p->pos, p->len - p->pos);
        if (!k) return fail(p, "invalid UTF-8 in string"), NULL;
        memcpy(dst + n, p->s + p->pos, k);
        n += k;
        p->pos += k;
    }
    p->pos++; /* closing quote */
    dst[n] = '\0';
    d->used += n + 1;
    return dst;
}

static bool is_digit(parser *p)
{
    return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static int parse_number(parser *p, int32_t idx)
{
    size_t start = p->pos;
    bool integer = true;
    if (p->s[p->pos] == '-') { p->pos++; integer = false; }
    if (!is_digit(p)) return fail(p, "expected a digit");
    if (p->s[p->pos] == '0') p->pos++;
    else while (is_digit(p)) p->pos++;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        integer = false;
        if (!is_digit(p)) return fail(p, "expected a digit after '.'");
        while (is_digit(p)) p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        p->pos++;
        integer = false;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        if (!is_digit(p)) return fail(p, "expected a digit in the exponent");
        while (is_digit(p)) p->pos++;
    }
    ag__json_val *v = &p->doc->v[idx];
    if (integer) {
        uint64_t u = 0;
        for (size_t i = start; i < p->pos; i++) {
            unsigned dgt = p->s[i] - '0';
            if (u > (UINT64_MAX - dgt) / 10) return p->pos = start, fail(p, "integer too large");
            u = u * 10 + dgt;
        }
        v->type = AG__JSON_UINT;
        v->u = u;
    } else {
        char buf[64];
        size_t k = p->pos - start < sizeof buf - 1 ? p->pos - start : sizeof buf - 1;
        memcpy(buf, p->s + start, k);
        buf[k] = '\0';
        v->type = AG__JSON_NUMBER;
        v->d = strtod(buf, NULL);
    }
    return 0;
}

static int parse_value(parser *p, int32_t *out);

/* An object or array, starting at its opening bracket. */
static int parse_container(parser *p, int32_t idx, bool object)
{
    char close = object ? '}' : ']';
    if (++p->depth > AG__JSON_MAX_DEPTH) return fail(p, "nesting too deep");
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    int32_t last = -1;
    for (;;) {
        const char *key = NULL;
        if (object) {
            if (p->pos >= p->len || p->s[p->pos] != '"') return fail(p, "expected a string key");
            if (!(key = parse_string(p))) return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') return fail(p, "expected ':' after a key");
            p->pos++;
        }
        int32_t child;
        if (parse_value(p, &child)) return -1;
        ag__json_val *v = p->doc->v;
        v[child].key = key;
        if (last < 0) v[idx].first = child;
        else v[last].next = child;
        last = child;
        if (v[idx].count == INT32_MAX) return fail(p, "too many elements");
        v[idx].count++;
        skip_ws(p);
        if (p->pos >= p->len) return fail(p, object ? "unterminated object" : "unterminated array");
        unsigned char c = p->s[p->pos++];
        if (c == (unsigned char)close) break;
        if (c != ',') {
            p->pos--;
            return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
        skip_ws(p);
    }
    p->depth--;
    return 0;
}

static int parse_value(parser *p, int32_t *out)
{
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "expected a value");
    unsigned char c = p->s[p->pos];
    int32_t idx = new_val(p, AG__JSON_LITERAL);
    if (idx < 0) return -1;
    *out = idx;
    if (c == '{' || c == '[') {
        p->doc->v[idx].type = c == '{' ? AG__JSON_OBJECT : AG__JSON_ARRAY;
        return parse_container(p, idx, c == '{');
    }
    if (c == '"') {
        const char *s = parse_string(p);
        if (!s) return -1;
        p->doc->v[idx].type = AG__JSON_STRING;
        p->doc->v[idx].str = s;
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, idx);
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(lits[i]);
        if (p->len - p->pos >= k && memcmp(p->s + p->pos, lits[i], k) == 0) {
            p->pos += k;
            p->doc->v[idx].str = lits[i];
            return 0;
        }
    }
    return fail(p, "unexpected character");
}

int ag__json_parse(ag__json *doc, const char *text, size_t len)
{
    *doc = (ag__json){0};
    parser p = {.s = (const unsigned char *)text, .len = len, .doc = doc};
    if (len >= SIZE_MAX - 1) return fail(&p, "text too long");
    doc->strings_cap = len + 1;
    doc->strings = malloc(doc->strings_cap);
    if (!doc->strings) return fail(&p, "out of memory");
    int32_t root;
    if (parse_value(&p, &root)) return -1;
    skip_ws(&p);
    if (p.pos != len) return fail(&p, "unexpected text after the end of the document");
    return 0;
}

void ag__json_free(ag__json *doc)
{
    if (!doc) return;
    free(doc->v);
    free(doc->strings);
    *doc = (ag__json){0};
}
