/*
 * pdfparse.c — just enough of PDF to put a beacon into an uploaded file:
 * the header, the last startxref, every cross-reference section back through
 * /Prev (classic tables from LibreOffice and most writers, cross-reference
 * streams with PNG predictors from Word and Acrobat, and hybrid files with
 * /XRefStm), the trailer, and objects both in the file and inside object
 * streams (zlib).  Nothing is rewritten here: inject.c appends an
 * incremental update.
 *
 * Every offset, length and count read from the file is checked against the
 * bytes we have before it is used; inflating is capped; recursion into
 * nested arrays and dictionaries is limited.
 */
#include <zlib.h>

#include "attach/attach_int.h"

#define NEST_MAX 64          /* arrays and dictionaries inside each other */
#define INFLATE_MAX ((size_t)32 << 20) /* one stream; all of them: PDF_INFLATE_BUDGET */
#define PDF_MSG_BUDGET "the PDF's compressed cross-reference and object streams unpack to more than 64 MiB"

static bool pdf_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\0';
}

static bool pdf_delim(char c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' ||
	       c == '/' || c == '%';
}

void attach__pdf_skip_ws(struct slice s, size_t *pos)
{
	size_t i = *pos;
	while (i < s.len) {
		if (pdf_ws(s.p[i])) {
			i++;
		} else if (s.p[i] == '%') {
			while (i < s.len && s.p[i] != '\n' && s.p[i] != '\r')
				i++;
		} else {
			break;
		}
	}
	*pos = i;
}

/* A run of regular characters (a number, a keyword, a name's body). */
static size_t regular_end(struct slice s, size_t i)
{
	while (i < s.len && !pdf_ws(s.p[i]) && !pdf_delim(s.p[i]))
		i++;
	return i;
}

static bool all_digits(struct slice s, size_t a, size_t b)
{
	if (a >= b)
		return false;
	for (size_t i = a; i < b; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

static int value_at(struct slice s, size_t *pos, struct slice *ret, int depth)
{
	size_t i, start;

	if (depth > NEST_MAX)
		return -EINVAL;
	attach__pdf_skip_ws(s, pos);
	i = start = *pos;
	if (i >= s.len)
		return -EINVAL;
	char c = s.p[i];
	if (c == '(') {
		int nest = 0;
		for (; i < s.len; i++) {
			if (s.p[i] == '\\')
				i++;
			else if (s.p[i] == '(')
				nest++;
			else if (s.p[i] == ')' && --nest == 0)
				break;
		}
		if (i >= s.len)
			return -EINVAL;
		i++;
	} else if (c == '<' && i + 1 < s.len && s.p[i + 1] == '<') {
		i += 2;
		for (;;) {
			attach__pdf_skip_ws(s, &i);
			if (i + 1 < s.len && s.p[i] == '>' && s.p[i + 1] == '>')
				break;
			struct slice k, v;
			if (i >= s.len || s.p[i] != '/' || value_at(s, &i, &k, depth + 1) < 0 ||
			    value_at(s, &i, &v, depth + 1) < 0)
				return -EINVAL;
		}
		i += 2;
	} else if (c == '<') {
		const char *gt = memchr(s.p + i, '>', s.len - i);
		if (!gt)
			return -EINVAL;
		i = (size_t)(gt - s.p) + 1;
	} else if (c == '[') {
		i++;
		for (;;) {
			attach__pdf_skip_ws(s, &i);
			if (i < s.len && s.p[i] == ']')
				break;
			struct slice v;
			if (value_at(s, &i, &v, depth + 1) < 0)
				return -EINVAL;
		}
		i++;
	} else if (c == '/') {
		i = regular_end(s, i + 1);
	} else if (pdf_delim(c)) {
		return -EINVAL;
	} else {
		i = regular_end(s, i);
		/* "n g R" is one value */
		if (all_digits(s, start, i)) {
			size_t j = i;
			attach__pdf_skip_ws(s, &j);
			size_t g = j, ge = regular_end(s, j);
			if (all_digits(s, g, ge)) {
				size_t k = ge;
				attach__pdf_skip_ws(s, &k);
				if (k < s.len && s.p[k] == 'R' && regular_end(s, k) == k + 1)
					i = k + 1;
			}
		}
	}
	*ret = (struct slice){ s.p + start, i - start };
	*pos = i;
	return 0;
}

int attach__pdf_value(struct slice s, size_t *pos, struct slice *ret)
{
	return value_at(s, pos, ret, 0);
}

int attach__pdf_dict_next(struct slice dict, size_t *pos, struct slice *ret_key, struct slice *ret_value)
{
	size_t i = *pos;

	if (i == 0) {
		attach__pdf_skip_ws(dict, &i);
		if (i + 1 >= dict.len || dict.p[i] != '<' || dict.p[i + 1] != '<')
			return -EINVAL;
		i += 2;
	}
	attach__pdf_skip_ws(dict, &i);
	if (i + 1 < dict.len && dict.p[i] == '>' && dict.p[i + 1] == '>')
		return 0;
	if (i >= dict.len || dict.p[i] != '/' || value_at(dict, &i, ret_key, 1) < 0 ||
	    value_at(dict, &i, ret_value, 1) < 0)
		return -EINVAL;
	*pos = i;
	return 1;
}

int attach__pdf_dict_get(struct slice dict, const char *key, struct slice *ret)
{
	size_t i = 0;
	struct slice k, v;
	int r;

	while ((r = attach__pdf_dict_next(dict, &i, &k, &v)) > 0)
		if (k.len - 1 == strlen(key) && !memcmp(k.p + 1, key, k.len - 1)) {
			*ret = v;
			return 0;
		}
	return r < 0 ? r : -ENOENT;
}

static bool parse_u64(struct slice v, uint64_t max, uint64_t *ret)
{
	int64_t n;
	if (slice_to_i64(slice_trim(v), 0, max > INT64_MAX ? INT64_MAX : (int64_t)max, &n) < 0)
		return false;
	*ret = (uint64_t)n;
	return true;
}

bool attach__pdf_as_ref(struct slice v, struct pdf_ref *ret)
{
	size_t i = 0, a, b;
	uint64_t num, gen;

	attach__pdf_skip_ws(v, &i);
	a = i;
	i = regular_end(v, i);
	if (!parse_u64((struct slice){ v.p + a, i - a }, PDF_OBJECTS_MAX - 1, &num))
		return false;
	attach__pdf_skip_ws(v, &i);
	b = i;
	i = regular_end(v, i);
	if (!parse_u64((struct slice){ v.p + b, i - b }, 65535, &gen))
		return false;
	attach__pdf_skip_ws(v, &i);
	if (i + 1 != v.len || v.p[i] != 'R')
		return false;
	*ret = (struct pdf_ref){ (uint32_t)num, (uint16_t)gen };
	return true;
}

static bool dict_u64(struct slice dict, const char *key, uint64_t max, uint64_t *ret)
{
	struct slice v;
	return attach__pdf_dict_get(dict, key, &v) == 0 && parse_u64(v, max, ret);
}

static bool is_name(struct slice v, const char *name)
{
	return v.len == strlen(name) + 1 && v.p[0] == '/' && !memcmp(v.p + 1, name, v.len - 1);
}

/* ---- streams ------------------------------------------------------------- */

/* Inflates in into out, stopping once `want` bytes came out (the rest of
 * the stream is never looked at) and counting against the parse's budget:
 * 64 sections of 32 MiB each would otherwise cost seconds per parse. */
static int inflate_all(struct pdf *p, struct slice in, size_t want, struct buf *out)
{
	z_stream zs = { 0 };
	unsigned char chunk[16384];
	int r;

	if (inflateInit(&zs) != Z_OK)
		return -ENOMEM;
	zs.next_in = (unsigned char *)(uintptr_t)in.p;
	zs.avail_in = in.len > UINT_MAX ? UINT_MAX : (unsigned)in.len;
	do {
		size_t room = want - out->len, left = PDF_INFLATE_BUDGET - p->inflated;
		if (left == 0) {
			p->over_budget = true;
			r = Z_MEM_ERROR;
			break;
		}
		room = room < sizeof(chunk) ? room : sizeof(chunk);
		room = room < left ? room : left;
		zs.next_out = chunk;
		zs.avail_out = (unsigned)room;
		r = inflate(&zs, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END)
			break;
		size_t n = room - zs.avail_out;
		p->inflated += n;
		if (out->len + n > INFLATE_MAX || buf_append(out, chunk, n) < 0) {
			r = Z_MEM_ERROR;
			break;
		}
		if (out->len == want)
			break; /* all that is needed: r is Z_OK or Z_STREAM_END */
	} while (r != Z_STREAM_END && (zs.avail_in || zs.avail_out == 0));
	inflateEnd(&zs);
	/* a stream cut short still gives what it had: writers are sloppy here */
	return r == Z_STREAM_END || (r == Z_OK && out->len) || (r == Z_BUF_ERROR && out->len) ? 0 : -EINVAL;
}

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Undoes PNG predictors (/Predictor >= 10) in place: rows of 1 + cols bytes
 * become rows of cols bytes. */
static int unpredict(struct buf *b, uint64_t cols, uint64_t bpp)
{
	size_t row = (size_t)cols + 1, rows = b->len / row;
	if (!cols || b->len % row)
		return -EINVAL;
	unsigned char *d = (unsigned char *)b->p;
	unsigned char *prev = NULL;
	for (size_t r = 0; r < rows; r++) {
		unsigned char *src = d + r * row, *dst = d + r * (size_t)cols;
		unsigned char f = src[0];
		memmove(dst, src + 1, (size_t)cols);
		for (size_t x = 0; x < cols; x++) {
			int a = x >= bpp ? dst[x - bpp] : 0, up = prev ? prev[x] : 0;
			int c = prev && x >= bpp ? prev[x - bpp] : 0;
			switch (f) {
			case 0: break;
			case 1: dst[x] = (unsigned char)(dst[x] + a); break;
			case 2: dst[x] = (unsigned char)(dst[x] + up); break;
			case 3: dst[x] = (unsigned char)(dst[x] + (a + up) / 2); break;
			case 4: dst[x] = (unsigned char)(dst[x] + paeth(a, up, c)); break;
			default: return -EINVAL;
			}
		}
		prev = dst;
	}
	b->len = rows * (size_t)cols;
	b->p[b->len] = '\0';
	return 0;
}

static int object_at(struct pdf *p, uint64_t off, uint32_t num, struct slice *ret_value, size_t *ret_end);

/* Where the data of the stream whose dictionary is dict starts (after `end`
 * in the file, just past the dictionary) and how long it is. */
static int stream_extent(struct pdf *p, struct slice dict, size_t end, struct slice *ret)
{
	struct slice f = p->file, v;
	size_t i = end;
	uint64_t len;

	attach__pdf_skip_ws(f, &i);
	if (i + 6 > f.len || memcmp(f.p + i, "stream", 6))
		return -EINVAL;
	i += 6;
	if (i < f.len && f.p[i] == '\r')
		i++;
	if (i < f.len && f.p[i] == '\n')
		i++;
	if (attach__pdf_dict_get(dict, "Length", &v) < 0)
		return -EINVAL;
	struct pdf_ref lr;
	if (attach__pdf_as_ref(v, &lr)) {
		/* an indirect length: the object must be a plain number in the file */
		if (lr.num >= p->size || p->xref[lr.num].type != 1 ||
		    object_at(p, p->xref[lr.num].off, lr.num, &v, NULL) < 0)
			return -EINVAL;
	}
	if (!parse_u64(v, f.len, &len) || len > f.len - i)
		return -EINVAL;
	*ret = (struct slice){ f.p + i, (size_t)len };
	return 0;
}

/* The decoded data of the stream whose dictionary is dict and which starts
 * after `end` in the file, at most `want` bytes of it (SIZE_MAX: all). */
static int stream_data(struct pdf *p, struct slice dict, size_t end, size_t want, struct buf *out)
{
	struct slice data, v;

	if (stream_extent(p, dict, end, &data) < 0)
		return -EINVAL;
	buf_reset(out);
	if (attach__pdf_dict_get(dict, "Filter", &v) == 0) {
		if (v.len && v.p[0] == '[') {
			size_t k = 1;
			struct slice only, more;
			if (value_at(v, &k, &only, 1) < 0)
				return -EINVAL;
			attach__pdf_skip_ws(v, &k);
			if (k + 1 != v.len && value_at(v, &k, &more, 1) == 0)
				return -EINVAL; /* a filter chain */
			v = only;
		}
		if (!is_name(v, "FlateDecode") && !is_name(v, "Fl"))
			return -EINVAL;
		struct slice parms;
		uint64_t pred = 1, cols = 1, colors = 1, bpc = 8;
		if (attach__pdf_dict_get(dict, "DecodeParms", &parms) == 0 && parms.len && parms.p[0] == '<') {
			dict_u64(parms, "Predictor", 15, &pred);
			dict_u64(parms, "Columns", 1 << 16, &cols);
			dict_u64(parms, "Colors", 32, &colors);
			dict_u64(parms, "BitsPerComponent", 16, &bpc);
		}
		if (pred != 1 && pred < 10)
			return -EINVAL; /* TIFF predictor: not used for xref or object streams */
		uint64_t rowlen = (cols * colors * bpc + 7) / 8;
		size_t raw = want;
		/* with PNG predictors each row of rowlen bytes costs one more */
		if (pred >= 10 && want != SIZE_MAX && rowlen)
			raw = (size_t)((want + rowlen - 1) / rowlen * (rowlen + 1));
		/* all of it: one byte past the cap is the error */
		if (inflate_all(p, data, raw <= INFLATE_MAX ? raw : INFLATE_MAX + 1, out) < 0)
			return -EINVAL;
		if (pred >= 10) {
			uint64_t bpp = colors * bpc / 8;
			if (unpredict(out, rowlen, bpp ? bpp : 1) < 0)
				return -EINVAL;
		}
	} else if (buf_append(out, data.p, data.len) < 0) {
		return -E2BIG;
	}
	return 0;
}

/* ---- objects ------------------------------------------------------------- */

/* "num gen obj VALUE" at off; *ret_end is just past VALUE. */
static int object_at(struct pdf *p, uint64_t off, uint32_t num, struct slice *ret_value, size_t *ret_end)
{
	struct slice f = p->file;
	size_t i, a;
	uint64_t n, g;

	if (off >= f.len)
		return -EINVAL;
	i = (size_t)off;
	attach__pdf_skip_ws(f, &i);
	a = i;
	i = regular_end(f, i);
	if (!parse_u64((struct slice){ f.p + a, i - a }, PDF_OBJECTS_MAX, &n) || n != num)
		return -EINVAL;
	attach__pdf_skip_ws(f, &i);
	a = i;
	i = regular_end(f, i);
	if (!parse_u64((struct slice){ f.p + a, i - a }, 65535, &g))
		return -EINVAL;
	attach__pdf_skip_ws(f, &i);
	if (i + 3 > f.len || memcmp(f.p + i, "obj", 3))
		return -EINVAL;
	i += 3;
	if (value_at(f, &i, ret_value, 0) < 0)
		return -EINVAL;
	if (ret_end)
		*ret_end = i;
	return 0;
}

/* Object idx (number num) of object stream stm. */
static int object_in_stream(struct pdf *p, uint32_t stm, uint32_t idx, uint32_t num, struct buf *out)
{
	if (stm >= p->size || p->xref[stm].type != 1)
		return -EINVAL;
	if (p->stm_num != stm) {
		struct slice dict;
		size_t end;
		p->stm_num = 0;
		if (object_at(p, p->xref[stm].off, stm, &dict, &end) < 0 ||
		    stream_data(p, dict, end, SIZE_MAX, &p->stm) < 0)
			return -EINVAL;
		p->stm_num = stm;
	}
	struct slice dict;
	size_t end;
	uint64_t n, first;
	if (object_at(p, p->xref[stm].off, stm, &dict, &end) < 0 || !dict_u64(dict, "N", PDF_OBJECTS_MAX, &n) ||
	    !dict_u64(dict, "First", p->stm.len, &first) || idx >= n)
		return -EINVAL;
	struct slice s = buf_slice(&p->stm), v;
	size_t i = 0;
	uint64_t onum = 0, ooff = 0;
	for (uint32_t k = 0; k <= idx; k++) {
		if (value_at(s, &i, &v, 1) < 0 || !parse_u64(v, PDF_OBJECTS_MAX, &onum) || value_at(s, &i, &v, 1) < 0 ||
		    !parse_u64(v, s.len, &ooff) || i > first)
			return -EINVAL;
	}
	if (onum != num || first + ooff >= s.len)
		return -EINVAL;
	i = (size_t)(first + ooff);
	if (value_at(s, &i, &v, 0) < 0)
		return -EINVAL;
	buf_reset(out);
	return buf_put_slice(out, v) < 0 ? -E2BIG : 0;
}

int attach__pdf_object(struct pdf *p, struct pdf_ref ref, struct buf *out)
{
	if (ref.num >= p->size)
		return -ENOENT;
	const struct pdf_xent *e = &p->xref[ref.num];
	if (e->type == 1) {
		struct slice v;
		if (object_at(p, e->off, ref.num, &v, NULL) < 0)
			return -EINVAL;
		buf_reset(out);
		return buf_put_slice(out, v) < 0 ? -E2BIG : 0;
	}
	if (e->type == 2)
		return object_in_stream(p, (uint32_t)e->off, e->idx, ref.num, out);
	return -ENOENT;
}

int attach__pdf_resolve(struct pdf *p, struct slice v, struct buf *out)
{
	struct pdf_ref r;
	if (attach__pdf_as_ref(v, &r))
		return attach__pdf_object(p, r, out);
	buf_reset(out);
	return buf_put_slice(out, v) < 0 ? -E2BIG : 0;
}

/* ---- cross-reference sections ------------------------------------------- */

static void xref_set(struct pdf *p, uint64_t num, uint8_t type, uint64_t off, uint64_t gen_or_idx)
{
	if (num >= p->size || p->xref[num].type)
		return; /* newer sections were read first and win */
	struct pdf_xent *e = &p->xref[num];
	e->type = type;
	if (type == 2) {
		e->off = off;
		e->idx = (uint32_t)gen_or_idx;
	} else {
		e->off = off;
		e->gen = (uint16_t)gen_or_idx;
	}
}

/* The trailer of a section: sets size/root/id from the newest one. */
static int trailer_first(struct pdf *p, struct slice trailer, const char **ret_msg)
{
	struct slice v;
	uint64_t size;

	if (attach__pdf_dict_get(trailer, "Encrypt", &v) == 0) {
		*ret_msg = "encrypted PDFs cannot carry a beacon: upload the PDF without a password or restrictions";
		return -EINVAL;
	}
	if (!dict_u64(trailer, "Size", PDF_OBJECTS_MAX, &size) || size < 1) {
		*ret_msg = "the PDF trailer has no valid /Size";
		return -EINVAL;
	}
	if (attach__pdf_dict_get(trailer, "Root", &v) < 0 || !attach__pdf_as_ref(v, &p->root) || p->root.num >= size) {
		*ret_msg = "the PDF trailer has no /Root";
		return -EINVAL;
	}
	if (attach__pdf_dict_get(trailer, "ID", &v) == 0 && v.len && v.p[0] == '[' && buf_put_slice(&p->id, v) < 0)
		buf_reset(&p->id);
	p->size = (uint32_t)size;
	p->xref = xcalloc(p->size, sizeof(*p->xref));
	return 0;
}

static int read_table(struct pdf *p, size_t i, struct slice *ret_trailer)
{
	struct slice f = p->file, v;

	i += 4; /* "xref" */
	for (;;) {
		attach__pdf_skip_ws(f, &i);
		if (i + 7 <= f.len && !memcmp(f.p + i, "trailer", 7)) {
			i += 7;
			if (value_at(f, &i, ret_trailer, 0) < 0 || !ret_trailer->len || ret_trailer->p[0] != '<')
				return -EINVAL;
			return 0;
		}
		uint64_t start, count;
		if (value_at(f, &i, &v, 1) < 0 || !parse_u64(v, PDF_OBJECTS_MAX, &start) || value_at(f, &i, &v, 1) < 0 ||
		    !parse_u64(v, PDF_OBJECTS_MAX, &count) || start + count > PDF_OBJECTS_MAX)
			return -EINVAL;
		for (uint64_t k = 0; k < count; k++) {
			uint64_t off, gen;
			struct slice t;
			if (value_at(f, &i, &v, 1) < 0 || !parse_u64(v, UINT64_MAX, &off) || value_at(f, &i, &t, 1) < 0 ||
			    !parse_u64(t, 65535, &gen) || value_at(f, &i, &t, 1) < 0 || t.len != 1 ||
			    (t.p[0] != 'n' && t.p[0] != 'f'))
				return -EINVAL;
			if (p->xref)
				xref_set(p, start + k, t.p[0] == 'n' ? 1 : 3, off, gen);
		}
	}
}

/* A cross-reference stream at i ("n g obj << /Type /XRef ... >> stream"). */
static int read_stream(struct pdf *p, size_t i, bool first, struct slice *ret_trailer, const char **ret_msg)
{
	struct slice f = p->file, dict, v;
	size_t a = i, end;
	uint64_t num;

	attach__pdf_skip_ws(f, &a);
	size_t b = regular_end(f, a);
	if (!parse_u64((struct slice){ f.p + a, b - a }, PDF_OBJECTS_MAX, &num) ||
	    object_at(p, i, (uint32_t)num, &dict, &end) < 0 || attach__pdf_dict_get(dict, "Type", &v) < 0 ||
	    !is_name(v, "XRef"))
		return -EINVAL;
	if (first && trailer_first(p, dict, ret_msg) < 0)
		return -ECANCELED;

	/* /W [w0 w1 w2] field widths, /Index [start count ...] */
	uint64_t w[3];
	size_t k = 1;
	if (attach__pdf_dict_get(dict, "W", &v) < 0 || !v.len || v.p[0] != '[')
		return -EINVAL;
	for (int j = 0; j < 3; j++) {
		struct slice e;
		if (value_at(v, &k, &e, 1) < 0 || !parse_u64(e, 8, &w[j]))
			return -EINVAL;
	}
	uint64_t row = w[0] + w[1] + w[2], size;
	if (!row || !dict_u64(dict, "Size", PDF_OBJECTS_MAX, &size))
		return -EINVAL;
	struct slice index;
	char dflt[48];
	if (attach__pdf_dict_get(dict, "Index", &index) < 0) {
		int n = snprintf(dflt, sizeof(dflt), "[0 %llu]", (unsigned long long)size);
		index = (struct slice){ dflt, (size_t)n };
	}
	if (!index.len || index.p[0] != '[')
		return -EINVAL;
	/* the rows /Index asks for: inflate that much and no more */
	uint64_t rows = 0;
	for (size_t ii = 1;;) {
		struct slice e;
		uint64_t start, count;
		attach__pdf_skip_ws(index, &ii);
		if (ii < index.len && index.p[ii] == ']')
			break;
		if (value_at(index, &ii, &e, 1) < 0 || !parse_u64(e, PDF_OBJECTS_MAX, &start) ||
		    value_at(index, &ii, &e, 1) < 0 || !parse_u64(e, PDF_OBJECTS_MAX, &count) ||
		    (rows += count) > PDF_OBJECTS_MAX)
			return -EINVAL;
	}
	_cleanup_buf_ struct buf data = BUF_INIT(INFLATE_MAX + 1);
	if (!rows || stream_data(p, dict, end, (size_t)(rows * row), &data) < 0)
		return -EINVAL;
	const unsigned char *d = (const unsigned char *)data.p;
	size_t at = 0, ii = 1;
	for (;;) {
		struct slice e;
		uint64_t start, count;
		attach__pdf_skip_ws(index, &ii);
		if (ii < index.len && index.p[ii] == ']')
			break;
		if (value_at(index, &ii, &e, 1) < 0 || !parse_u64(e, PDF_OBJECTS_MAX, &start) ||
		    value_at(index, &ii, &e, 1) < 0 || !parse_u64(e, PDF_OBJECTS_MAX, &count) ||
		    start + count > PDF_OBJECTS_MAX)
			return -EINVAL;
		for (uint64_t n = 0; n < count; n++) {
			uint64_t field[3];
			if (data.len - at < row)
				return -EINVAL;
			for (int j = 0; j < 3; j++) {
				field[j] = 0;
				for (uint64_t x = 0; x < w[j]; x++)
					field[j] = field[j] << 8 | d[at++];
			}
			if (!w[0])
				field[0] = 1;
			if (p->xref) {
				if (field[0] == 0)
					xref_set(p, start + n, 3, 0, 0);
				else if (field[0] == 1)
					xref_set(p, start + n, 1, field[1], field[2] > 65535 ? 65535 : field[2]);
				else if (field[0] == 2 && field[1] < PDF_OBJECTS_MAX && field[2] < PDF_OBJECTS_MAX)
					xref_set(p, start + n, 2, field[1], field[2]);
			}
		}
	}
	*ret_trailer = dict;
	return 0;
}

/* Reads the section at off and, through /XRefStm and /Prev, the older ones. */
static int read_sections(struct pdf *p, uint64_t off, const char **ret_msg)
{
	uint64_t *seen = p->sections;
	bool first = true;

	while (off) {
		if (off >= p->file.len || p->nsections == PDF_SECTIONS_MAX)
			goto bad;
		for (size_t k = 0; k < p->nsections; k++)
			if (seen[k] == off)
				goto bad; /* a /Prev loop */
		seen[p->nsections++] = off;

		struct slice trailer;
		size_t i = (size_t)off;
		attach__pdf_skip_ws(p->file, &i);
		if (i + 4 <= p->file.len && !memcmp(p->file.p + i, "xref", 4)) {
			if (read_table(p, i, &trailer) < 0)
				goto bad;
			if (first) {
				if (trailer_first(p, trailer, ret_msg) < 0)
					return -EINVAL;
				/* read the table again now that we know /Size */
				if (read_table(p, i, &trailer) < 0)
					goto bad;
			}
			/* hybrid files: the stream holds what the table leaves out */
			uint64_t stm;
			if (dict_u64(trailer, "XRefStm", p->file.len, &stm)) {
				struct slice ignored;
				int r = read_stream(p, (size_t)stm, false, &ignored, ret_msg);
				if (r < 0)
					goto bad;
			}
		} else {
			int r = read_stream(p, i, first, &trailer, ret_msg);
			if (r == -ECANCELED)
				return -EINVAL;
			if (r < 0)
				goto bad;
			if (first)
				p->xref_stream = true;
		}
		first = false;
		if (!dict_u64(trailer, "Prev", p->file.len, &off))
			off = 0;
	}
	return 0;
bad:
	*ret_msg = p->over_budget ? PDF_MSG_BUDGET
				  : "the PDF cross-reference (startxref, xref table or xref stream) is damaged";
	return -EINVAL;
}

int attach__pdf_open(struct slice file, struct pdf *p, const char **ret_msg)
{
	*p = (struct pdf){ .file = file, .id = BUF_INIT(4096), .stm = BUF_INIT(INFLATE_MAX + 1) };

	const char *h = memmem(file.p, file.len < 1024 ? file.len : 1024, "%PDF-", 5);
	if (!h || (size_t)(h - file.p) + 8 > file.len || (h[5] != '1' && h[5] != '2') || h[6] != '.' ||
	    h[7] < '0' || h[7] > '9') {
		*ret_msg = "not a PDF: no %PDF-1.x header in the first 1024 bytes";
		return -EINVAL;
	}
	size_t tail = file.len < 1024 ? 0 : file.len - 1024;
	struct slice end = { file.p + tail, file.len - tail };
	if (!memmem(end.p, end.len, "%%EOF", 5)) {
		*ret_msg = "the PDF is truncated: no %%EOF at the end";
		return -EINVAL;
	}
	const char *sx = NULL;
	for (const char *q = end.p; (q = memmem(q, end.len - (size_t)(q - end.p), "startxref", 9)); q += 9)
		sx = q;
	if (!sx) {
		*ret_msg = "the PDF has no startxref: it has no cross-reference we can follow";
		return -EINVAL;
	}
	size_t i = (size_t)(sx + 9 - file.p);
	struct slice v;
	uint64_t off;
	if (value_at(file, &i, &v, 1) < 0 || !parse_u64(v, file.len - 1, &off) || off == 0) {
		*ret_msg = "the PDF's startxref does not point into the file";
		return -EINVAL;
	}
	p->startxref = off;
	if (read_sections(p, off, ret_msg) < 0)
		return -EINVAL;
	if (!p->xref) {
		*ret_msg = "the PDF cross-reference (startxref, xref table or xref stream) is damaged";
		return -EINVAL;
	}
	return attach__pdf_active(p, ret_msg);
}

void attach__pdf_release(struct pdf *p)
{
	free(p->xref);
	p->xref = NULL;
	buf_release(&p->id);
	buf_release(&p->stm);
}

static int page_tree(struct pdf *p, struct pdf_ref *ret_ref, struct buf *ret_dict, const char **ret_msg);

/* A stream object (its dictionary followed by "stream"): never a catalog or
 * a page, and the injector rewrites those two as plain dictionaries — an
 * object stream posing as one would lose its objects. */
static bool is_stream(struct pdf *p, struct pdf_ref ref)
{
	struct slice v;
	size_t end;
	if (ref.num >= p->size || p->xref[ref.num].type != 1 || object_at(p, p->xref[ref.num].off, ref.num, &v, &end) < 0)
		return false;
	attach__pdf_skip_ws(p->file, &end);
	return end + 6 <= p->file.len && !memcmp(p->file.p + end, "stream", 6);
}

int attach__pdf_first_page(struct pdf *p, struct pdf_ref *ret_ref, struct buf *ret_dict, const char **ret_msg)
{
	int r = page_tree(p, ret_ref, ret_dict, ret_msg);
	if (r == 0 && (is_stream(p, p->root) || is_stream(p, *ret_ref))) {
		*ret_msg = "the PDF's catalog or first page is a stream, not a dictionary";
		return -EINVAL;
	}
	if (r == -EINVAL && p->over_budget)
		*ret_msg = PDF_MSG_BUDGET;
	return r;
}

static int page_tree(struct pdf *p, struct pdf_ref *ret_ref, struct buf *ret_dict, const char **ret_msg)
{
	_cleanup_buf_ struct buf node = BUF_INIT(ATTACH_PART_MAX);
	struct pdf_ref ref = p->root;
	struct slice v;

	if (attach__pdf_object(p, ref, &node) < 0 || !node.len || node.p[0] != '<' ||
	    attach__pdf_dict_get(buf_slice(&node), "Pages", &v) < 0 || !attach__pdf_as_ref(v, &ref)) {
		*ret_msg = "the PDF's /Root is not a catalog with /Pages";
		return -EINVAL;
	}
	for (int depth = 0; depth < NEST_MAX; depth++) {
		if (attach__pdf_object(p, ref, &node) < 0 || !node.len || node.p[0] != '<') {
			*ret_msg = "the PDF's page tree is damaged";
			return -EINVAL;
		}
		struct slice kids, type;
		bool pages = attach__pdf_dict_get(buf_slice(&node), "Type", &type) == 0 ? is_name(type, "Pages")
					: attach__pdf_dict_get(buf_slice(&node), "Kids", &kids) == 0;
		if (!pages) {
			*ret_ref = ref;
			buf_reset(ret_dict);
			if (buf_put_slice(ret_dict, buf_slice(&node)) < 0)
				return -E2BIG;
			return 0;
		}
		size_t k = 1;
		struct slice kid;
		if (attach__pdf_dict_get(buf_slice(&node), "Kids", &kids) < 0 || !kids.len || kids.p[0] != '[' ||
		    value_at(kids, &k, &kid, 1) < 0 || !attach__pdf_as_ref(kid, &ref)) {
			*ret_msg = "the PDF has no pages";
			return -EINVAL;
		}
	}
	*ret_msg = "the PDF's page tree is damaged";
	return -EINVAL;
}

/* ---- active content -------------------------------------------------------- */

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

bool attach__pdf_name(struct slice s, size_t *pos, char *out, size_t outlen)
{
	size_t i = *pos + 1, end = regular_end(s, i), n = 0;
	bool ok = true;

	for (; i < end; i++) {
		char c = s.p[i];
		if (c == '#') {
			/* "#xx": two hex digits; PDF 1.1 writers left lone '#' as is */
			int hi = i + 2 < end ? hex_digit(s.p[i + 1]) : -1;
			int lo = hi >= 0 ? hex_digit(s.p[i + 2]) : -1;
			if (hi >= 0 && lo >= 0) {
				c = (char)(hi << 4 | lo);
				i += 2;
			}
		}
		if (n + 1 >= outlen)
			ok = false;
		else
			out[n++] = c;
	}
	out[n < outlen ? n : outlen - 1] = '\0';
	*pos = end;
	return ok;
}

/* The names that make a PDF do something beyond showing pages, each with
 * its refusal. */
static const struct {
	const char *name;
	const char *msg;
} active_names[] = {
	{ "JavaScript", "PDF contains JavaScript (/JavaScript): not accepted" },
	{ "JS", "PDF contains JavaScript (/JS): not accepted" },
	{ "Launch", "PDF contains a launch action (/Launch), which starts programs: not accepted" },
	{ "EmbeddedFiles", "PDF contains embedded files (/EmbeddedFiles): not accepted" },
	{ "EmbeddedFile", "PDF contains an embedded file (/EmbeddedFile): not accepted" },
	{ "EF", "PDF contains an embedded file (/EF): not accepted" },
	{ "FileAttachment", "PDF contains a file attachment (/FileAttachment): not accepted" },
	{ "GoToE", "PDF contains an action opening an embedded document (/GoToE): not accepted" },
	{ "GoToR", "PDF contains an action opening another file (/GoToR): not accepted" },
	{ "SubmitForm", "PDF contains a form that submits data (/SubmitForm): not accepted" },
	{ "ImportData", "PDF contains an action importing data (/ImportData): not accepted" },
	{ "RichMedia", "PDF contains rich media (/RichMedia): not accepted" },
	{ "XFA", "PDF contains an XFA form, which can run scripts (/XFA): not accepted" },
};

/* Every name in s[from, to): the first active one refuses. */
static int scan_names(struct slice s, size_t from, size_t to, const char **ret_msg)
{
	struct slice part = { s.p, to };
	char name[32];

	for (size_t i = from; i < to;) {
		const char *slash = memchr(s.p + i, '/', to - i);
		if (!slash)
			break;
		i = (size_t)(slash - s.p);
		if (!attach__pdf_name(part, &i, name, sizeof(name)))
			continue; /* longer than any we look for */
		for (size_t k = 0; k < ARRAY_SIZE(active_names); k++)
			if (!strcmp(name, active_names[k].name)) {
				*ret_msg = active_names[k].msg;
				return -EINVAL;
			}
	}
	return 0;
}

struct range {
	uint64_t a, b;
};

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static int cmp_range(const void *x, const void *y)
{
	return cmp_u64(&((const struct range *)x)->a, &((const struct range *)y)->a);
}

/* An object that starts at off with some number: its value's extent and, for
 * a stream, its data's. */
static bool object_extent(struct pdf *p, uint64_t off, size_t *ret_end, struct range *ret_data)
{
	struct slice f = p->file, v, data;
	size_t i = (size_t)off, a, end;
	uint64_t num;

	attach__pdf_skip_ws(f, &i);
	a = i;
	i = regular_end(f, i);
	if (!parse_u64((struct slice){ f.p + a, i - a }, PDF_OBJECTS_MAX, &num) ||
	    object_at(p, off, (uint32_t)num, &v, &end) < 0)
		return false;
	*ret_end = end;
	*ret_data = (struct range){ 0, 0 };
	if (v.len && v.p[0] == '<' && stream_extent(p, v, end, &data) == 0)
		*ret_data = (struct range){ (uint64_t)(data.p - f.p), (uint64_t)(data.p - f.p) + data.len };
	return true;
}

int attach__pdf_active(struct pdf *p, const char **ret_msg)
{
	struct slice f = p->file;
	size_t n = 0, nr = 0;
	int r = 0;

	/*
	 * The file's bytes are read as a viewer reads them, minus stream data
	 * (compressed bytes would match a short name like /JS by chance): the
	 * data of a stream is skipped only when it is one the cross-reference
	 * leads to and no object or section the cross-reference knows starts
	 * inside it — a /Length stretched over a hidden object hides nothing.
	 * Names inside strings count too: a false alarm on "(/JS)" beats
	 * trusting a string's extent in bytes a viewer never parses.
	 */
	_cleanup_free_ uint64_t *offs = xcalloc((size_t)p->size + PDF_SECTIONS_MAX, sizeof(*offs));
	for (uint32_t k = 0; k < p->size; k++)
		if (p->xref[k].type == 1 && p->xref[k].off < f.len)
			offs[n++] = p->xref[k].off;
	for (size_t k = 0; k < p->nsections; k++)
		offs[n++] = p->sections[k];
	qsort(offs, n, sizeof(*offs), cmp_u64);

	_cleanup_free_ struct range *skip = xcalloc(n ? n : 1, sizeof(*skip));
	size_t done = 0; /* objects starting before this were inside one already read: linear, not n × file */
	for (size_t k = 0; k < n; k++) {
		size_t end;
		struct range d;
		if (offs[k] < done || (k && offs[k] == offs[k - 1]) || !object_extent(p, offs[k], &end, &d))
			continue;
		done = end;
		if (d.b > d.a) {
			/* the first known offset after the data's start must be past its end */
			size_t lo = k + 1, hi = n;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (offs[mid] < d.a)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo == n || offs[lo] >= d.b)
				skip[nr++] = d;
			done = d.b > done ? d.b : done;
		}
	}
	qsort(skip, nr, sizeof(*skip), cmp_range);
	uint64_t at = 0;
	for (size_t k = 0; k <= nr && r == 0; k++) {
		uint64_t to = k < nr ? skip[k].a : f.len;
		if (to > at)
			r = scan_names(f, (size_t)at, (size_t)to, ret_msg);
		if (k < nr && skip[k].b > at)
			at = skip[k].b;
	}
	if (r < 0)
		return r;

	/* object streams: each one the cross-reference uses, unpacked once */
	_cleanup_free_ uint8_t *seen = xcalloc((size_t)p->size / 8 + 1, 1);
	_cleanup_buf_ struct buf data = BUF_INIT(INFLATE_MAX + 1);
	for (uint32_t k = 0; k < p->size; k++) {
		if (p->xref[k].type != 2)
			continue;
		uint64_t stm = p->xref[k].off;
		if (stm < p->size && seen[stm / 8] & (1u << (stm % 8)))
			continue;
		struct slice dict;
		size_t end;
		if (stm < p->size)
			seen[stm / 8] |= (uint8_t)(1u << (stm % 8));
		if (stm >= p->size || p->xref[stm].type != 1 || object_at(p, p->xref[stm].off, (uint32_t)stm, &dict, &end) < 0 ||
		    stream_data(p, dict, end, SIZE_MAX, &data) < 0) {
			/* one we cannot read is one we cannot vouch for */
			*ret_msg = p->over_budget ? PDF_MSG_BUDGET
						  : "an object stream of the PDF does not unpack: it cannot be checked";
			return -EINVAL;
		}
		if (scan_names(buf_slice(&data), 0, data.len, ret_msg) < 0)
			return -EINVAL;
	}
	return 0;
}
