/* core.c — allocation, slices, buffers, escaping, arenas, ids, files. */
#include "core/core.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

_Noreturn void core_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "BUG: %s:%d: %s\n", file, line, what);
	abort();
}

static void *oom(size_t n)
{
	fprintf(stderr, "out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom(n);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom(n * size);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	return q ? q : oom(n);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(st_add(n, 1));
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b, 0);
	va_start(ap, fmt);
	int r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	BUG_ON(r < 0);
	return buf_steal(&b);
}

size_t st_add(size_t a, size_t b)
{
	BUG_ON(a > SIZE_MAX - b);
	return a + b;
}

size_t st_mult(size_t a, size_t b)
{
	BUG_ON(b && a > SIZE_MAX / b);
	return a * b;
}

/* ---- slices ---- */

struct slice slice_from(const char *s)
{
	return (struct slice){ s ? s : "", s ? strlen(s) : 0 };
}

bool slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool slice_eq_str(struct slice a, const char *s)
{
	return slice_eq(a, slice_from(s));
}

bool slice_starts_with(struct slice a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && memcmp(a.p, prefix, n) == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

struct slice slice_trim(struct slice a)
{
	while (a.len && is_space(a.p[0])) {
		a.p++;
		a.len--;
	}
	while (a.len && is_space(a.p[a.len - 1]))
		a.len--;
	return a;
}

struct slice slice_cut(struct slice a, char sep, struct slice *ret_head)
{
	const char *q = a.len ? memchr(a.p, sep, a.len) : NULL;
	if (!q) {
		*ret_head = a;
		return (struct slice){ a.p + a.len, 0 };
	}
	*ret_head = (struct slice){ a.p, (size_t)(q - a.p) };
	return (struct slice){ q + 1, a.len - (size_t)(q - a.p) - 1 };
}

int slice_to_i64(struct slice a, int64_t min, int64_t max, int64_t *ret)
{
	bool neg = false;
	uint64_t v = 0;
	size_t i = 0;

	if (a.len && a.p[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == a.len || a.len - i > 19)
		return -EINVAL;
	for (; i < a.len; i++) {
		if (a.p[i] < '0' || a.p[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(a.p[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	int64_t s = neg ? -(int64_t)v : (int64_t)v;
	if (s < min || s > max)
		return -ERANGE;
	*ret = s;
	return 0;
}

/* ---- buf ---- */

char buf__empty[1];

void buf_init(struct buf *b, size_t max)
{
	*b = (struct buf){ .p = buf__empty, .max = max ? max : BUF_MAX_DEFAULT };
}

void buf_release(struct buf *b)
{
	if (b->cap)
		free(b->p);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->cap) /* never write to the shared empty string */
		b->p[0] = '\0';
}

static int buf_grow(struct buf *b, size_t extra)
{
	size_t need;

	if (extra > b->max || b->len > b->max - extra)
		return -E2BIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = st_mult(cap, 2);
	if (b->cap) {
		b->p = xrealloc(b->p, cap);
	} else {
		b->p = xmalloc(cap);
		b->p[0] = '\0';
	}
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	int r = buf_grow(b, n);
	if (r < 0)
		return r;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int buf_put_slice(struct buf *b, struct slice s)
{
	return buf_append(b, s.p, s.len);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	char small[256];

	va_copy(cp, ap);
	int n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	int r = buf_grow(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

char *buf_steal(struct buf *b)
{
	char *p = b->cap ? b->p : xstrdup("");
	buf_init(b, b->max);
	return p;
}

/* ---- escaping ---- */

int buf_put_html(struct buf *b, struct slice s)
{
	int r = 0;
	for (size_t i = 0; i < s.len && r == 0; i++) {
		switch (s.p[i]) {
		case '&': r = buf_puts(b, "&amp;"); break;
		case '<': r = buf_puts(b, "&lt;"); break;
		case '>': r = buf_puts(b, "&gt;"); break;
		case '"': r = buf_puts(b, "&quot;"); break;
		case '\'': r = buf_puts(b, "&#39;"); break;
		default: r = buf_putc(b, s.p[i]);
		}
	}
	return r;
}

int buf_put_url(struct buf *b, struct slice s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;
	for (size_t i = 0; i < s.len && r == 0; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			r = buf_putc(b, (char)c);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			r = buf_append(b, e, 3);
		}
	}
	return r;
}

bool csv_formula_char(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

int buf_put_csv(struct buf *b, struct slice s)
{
	bool quote = false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == ',' || s.p[i] == '"' || s.p[i] == '\n' || s.p[i] == '\r')
			quote = true;
	/* Neutralise spreadsheet formulas in values that came from outside. */
	bool formula = s.len && csv_formula_char(s.p[0]);
	if (!quote && !formula)
		return buf_put_slice(b, s);
	int r = buf_putc(b, '"');
	if (r == 0 && formula)
		r = buf_putc(b, '\'');
	for (size_t i = 0; i < s.len && r == 0; i++)
		r = s.p[i] == '"' ? buf_puts(b, "\"\"") : buf_putc(b, s.p[i]);
	return r ? r : buf_putc(b, '"');
}

int buf_put_json_str(struct buf *b, struct slice s)
{
	static const char hex[] = "0123456789abcdef";
	int r = buf_putc(b, '"');
	for (size_t i = 0; i < s.len && r == 0; i++) {
		unsigned char c = (unsigned char)s.p[i];
		switch (c) {
		case '"': r = buf_puts(b, "\\\""); break;
		case '\\': r = buf_puts(b, "\\\\"); break;
		case '\n': r = buf_puts(b, "\\n"); break;
		case '\r': r = buf_puts(b, "\\r"); break;
		case '\t': r = buf_puts(b, "\\t"); break;
		case '<': r = buf_puts(b, "\\u003c"); break; /* safe inside <script> */
		default:
			if (c < 0x20) {
				char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				r = buf_append(b, e, 6);
			} else {
				r = buf_putc(b, (char)c);
			}
		}
	}
	return r ? r : buf_putc(b, '"');
}

static size_t utf8_seq_len(unsigned char lead)
{
	if (lead < 0x80)
		return 1;
	if ((lead & 0xE0) == 0xC0)
		return 2;
	if ((lead & 0xF0) == 0xE0)
		return 3;
	if ((lead & 0xF8) == 0xF0)
		return 4;
	return 0;
}

int buf_put_utf8(struct buf *b, struct slice s)
{
	size_t i = 0;
	int r = 0;
	while (i < s.len && r == 0) {
		size_t k = utf8_seq_len((unsigned char)s.p[i]);
		if (s.p[i] == '\0' || k == 0 || k > s.len - i || !utf8_valid(s.p + i, k)) {
			r = buf_puts(b, "\xEF\xBF\xBD");
			i++;
		} else {
			r = buf_append(b, s.p + i, k);
			i += k;
		}
	}
	return r;
}

/* ---- arena ---- */

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_block *head;
	size_t total, max;
	bool failed;
};

struct arena *arena_new(size_t max)
{
	struct arena *a = xcalloc(1, sizeof(*a));
	a->max = max ? max : BUF_MAX_DEFAULT;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	for (struct arena_block *b = a->head, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (st_add(n, 15) / 16) * 16;
	if (n == 0)
		n = 16;
	struct arena_block *b = a->head;
	if (!b || b->size - b->used < n) {
		size_t size = n > 8192 ? n : 8192;
		size_t left = a->max > a->total ? a->max - a->total : 0;
		if (size > left && n <= left)
			size = left; /* a small arena: the last block is what remains */
		if (size > left) {
			a->failed = true;
			return NULL;
		}
		b = xmalloc(st_add(sizeof(*b), size));
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
		a->total += size;
	}
	void *p = b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

bool arena_failed(const struct arena *a)
{
	return a->failed;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, st_add(n, 1));
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_slice(struct arena *a, struct slice s)
{
	return arena_strndup(a, s.p, s.len);
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : arena_strndup(a, b.p, b.len);
}

/* ---- random ids ---- */

void random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			core_bug(__FILE__, __LINE__, "getrandom failed");
		}
		p += r;
		n -= (size_t)r;
	}
}

void id_random(char *out, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i = 0;
	while (i < len) {
		unsigned char r[32];
		random_bytes(r, sizeof(r));
		for (size_t k = 0; k < sizeof(r) && i < len; k++)
			if (r[k] < 248) /* 248 = 62 * 4: no modulo bias */
				out[i++] = alphabet[r[k] % 62];
	}
	out[len] = '\0';
}

static char node[33];

void node_id_set(const char *id)
{
	snprintf(node, sizeof(node), "%s", id);
}

const char *node_id(void)
{
	return node;
}

/* ---- embedded files ---- */

const struct embedded_file *embedded_find(const char *path)
{
	for (size_t i = 0; i < embedded_files_count; i++)
		if (strcmp(embedded_files[i].path, path) == 0)
			return &embedded_files[i];
	return NULL;
}

/* ---- files ---- */

int file_read(const char *path, size_t max, struct buf *b)
{
	_cleanup_fclose_ FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f)
		return -errno;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len + n > max)
			return -E2BIG;
		int r = buf_append(b, chunk, n);
		if (r < 0)
			return r;
	}
	return ferror(f) ? -EIO : 0;
}

int file_write_atomic(const char *path, const void *data, size_t len)
{
	_cleanup_buf_ struct buf tmp = BUF_INIT(0);
	char rnd[9];
	id_random(rnd, 8);
	buf_printf(&tmp, "%s.tmp-%s", path, rnd);

	int fd = open(tmp.p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			close(fd);
			unlink(tmp.p);
			return e;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		int e = -errno;
		unlink(tmp.p);
		return e;
	}
	if (rename(tmp.p, path) < 0) {
		int e = -errno;
		unlink(tmp.p);
		return e;
	}
	return 0;
}

int mkdir_p(const char *path, unsigned mode)
{
	if (!path[0])
		return -EINVAL;
	_cleanup_free_ char *p = xstrdup(path);
	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*q = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t k;
		uint32_t cp, min;
		if (c < 0x80) { i++; continue; }
		else if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; min = 0x80; }
		else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; min = 0x800; }
		else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; min = 0x10000; }
		else return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}
