/*
 * pdf.c — the PDF writer (SPEC D5, D9): A4 portrait, 20 mm margins, a
 * title, a visible link line, paragraphs wrapped to the page width and a
 * table drawn as a grid, on as many pages as they need.  content/ uses it
 * (no link, no beacon) for the education material; attach_build() for the
 * training PDF, which adds:
 *
 * - a link annotation (/Subtype /Link with a /URI action to link_url) over
 *   a blue, underlined line of link_text right below the title — clicking
 *   it is the dependable PDF signal (PDF内リンククリック);
 * - a document /OpenAction and page 1's /AA /O, each a /URI action to
 *   beacon_url.  Acrobat and Reader ask the reader before they open a URI
 *   from an action; browsers' built-in viewers (pdf.js, Chrome's PDFium),
 *   macOS Preview and poppler-based viewers run neither, so a PDF "open" is
 *   only ever seen from Acrobat, and then only after a click on "Allow".
 *
 * Japanese and English share one font: the Type0 font HeiseiKakuGo-W5 with
 * the predefined CMap UniJIS-UCS2-H over a CIDFontType0 of ordering
 * Adobe-Japan1 (supplement 2), not embedded — every viewer with Japanese
 * fonts substitutes one.  Text is written as UTF-16BE hex strings; characters
 * outside the BMP and invalid UTF-8 become U+3013 (〓).  A /ToUnicode CMap
 * makes text extraction (search, copy, pdftotext) work without the viewer's
 * own Adobe-Japan1 tables.
 *
 * Line breaking is greedy on a width estimate: ASCII and half-width katakana
 * 0.5 em (the /W array declares exactly that), everything else 1 em.  Lines
 * break at spaces and next to CJK characters, never before closing or after
 * opening punctuation; a word longer than the line is cut.  Table cells wrap
 * the same way inside their column; a row never splits across pages (a row
 * taller than a page keeps the lines that fit).
 *
 * The document is laid out first (one content stream per page, the link
 * rectangles noted), then the objects are written in order while their byte
 * offsets are recorded for the cross-reference table: no offset is ever
 * patched afterwards.
 */
#include "attach/attach.h"
#include "attach/attach_int.h"

/* Geometry in centipoints (1/100 pt), so no floating point (or locale)
 * reaches the output. */
#define PAGE_W 59528        /* A4: 210 mm */
#define PAGE_H 84189        /* A4: 297 mm */
#define MARGIN 5669         /* 20 mm */
#define TEXT_W (PAGE_W - 2 * MARGIN)
#define TITLE_SIZE 1800
#define TITLE_LEAD 2700
#define BODY_SIZE 1100
#define BODY_LEAD 1800
#define PARA_GAP 800        /* extra space between paragraphs */
#define TITLE_GAP 1400      /* extra space after the title */
#define DESCENT(size) ((size) * 221 / 1000)

#define GETA 0x3013         /* 〓: stands in for what the font cannot show */

/* Decodes UTF-8 into BMP code units; returns the count (out holds at most
 * len units).  Invalid bytes and non-BMP characters become U+3013, tabs
 * spaces; other controls but \n are dropped. */
static size_t decode(const char *s, size_t len, uint16_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = 0;

	while (i < len) {
		uint32_t c = p[i], min;
		size_t k;
		if (c < 0x80) {
			i++;
			if (c == '\t')
				c = ' ';
			if (c == '\n' || c >= 0x20)
				out[n++] = (uint16_t)(c == 0x7f ? ' ' : c);
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, c &= 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, c &= 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, c &= 0x07, min = 0x10000;
		else {
			out[n++] = GETA, i++;
			continue;
		}
		size_t j = 1;
		for (; j <= k && i + j < len && (p[i + j] & 0xc0) == 0x80; j++)
			c = (c << 6) | (p[i + j] & 0x3f);
		if (j <= k || c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
			out[n++] = GETA, i += j;
			continue;
		}
		i += j;
		if (c >= 0x80 && c < 0xa0)
			continue;                 /* C1 controls */
		/* ¥ maps to a half-width glyph whose substitutes (poppler's)
		 * draw it wider than its advance, over the next digit: the
		 * full-width ￥ of Japanese invoices looks right everywhere. */
		if (c == 0xa5)
			c = 0xffe5;
		out[n++] = c > 0xffff ? GETA : (uint16_t)c;
	}
	return n;
}

/* Advance in 1/1000 em. */
static int advance(uint16_t c)
{
	return c < 0x80 || (c >= 0xff61 && c <= 0xff9f) ? 500 : 1000;
}

static bool is_wide(uint16_t c)
{
	return advance(c) == 1000;
}

/* May not begin a line (行頭禁則). */
static bool no_start(uint16_t c)
{
	static const uint16_t set[] = { 0x3001, 0x3002, 0xff0c, 0xff0e, 0xff09, 0x300d, 0x300f, 0x3011,
					0x3009, 0x300b, 0xff3d, 0xff5d, 0xff01, 0xff1f, 0xff1a, 0xff1b,
					0x30fc, 0x30fb, 0x3005, 0x309d, 0x309e, 0x30fd, 0x30fe, 0x3041,
					0x3043, 0x3045, 0x3047, 0x3049, 0x3063, 0x3083, 0x3085, 0x3087,
					0x30a1, 0x30a3, 0x30a5, 0x30a7, 0x30a9, 0x30c3, 0x30e3, 0x30e5,
					0x30e7, 0x2019, 0x201d, ',', '.', ')', ']', '}', '!', '?', ':',
					';' };
	for (size_t i = 0; i < ARRAY_SIZE(set); i++)
		if (set[i] == c)
			return true;
	return false;
}

/* May not end a line (行末禁則). */
static bool no_end(uint16_t c)
{
	static const uint16_t set[] = { 0xff08, 0x300c, 0x300e, 0x3010, 0x3008, 0x300a, 0xff3b, 0xff5b,
					0x2018, 0x201c, '(', '[', '{' };
	for (size_t i = 0; i < ARRAY_SIZE(set); i++)
		if (set[i] == c)
			return true;
	return false;
}

/* Whether a line may end between u[i-1] and u[i]. */
static bool can_break(const uint16_t *u, size_t i)
{
	uint16_t a = u[i - 1], b = u[i];
	if (b == ' ' || no_start(b) || no_end(a))
		return false;
	return a == ' ' || is_wide(a) || is_wide(b);
}

/* ---- layout: pages of content streams ---- */

#define LINK_LEAD_GAP PARA_GAP
#define CELL_PAD 400        /* inside a table cell, each side */
#define CELL_LEAD 1500      /* line distance in a cell (11 pt text) */
#define HEAD_GRAY "0.906"   /* fill of the first row */

struct link_rect {
	size_t page;         /* index into layout.pages */
	int x0, y0, x1, y1;  /* centipoints */
};

struct layout {
	struct buf *pages;   /* one content stream each */
	size_t npages;
	int y;               /* baseline of the last line, centipoints */
	bool used_hi[256];   /* high bytes of the codes used (for /ToUnicode) */
	struct link_rect *links;
	size_t nlinks;
};

static void layout_release(struct layout *l)
{
	for (size_t i = 0; i < l->npages; i++)
		buf_release(&l->pages[i]);
	free(l->pages);
	free(l->links);
	*l = (struct layout){ 0 };
}

static void layout_new_page(struct layout *l)
{
	l->pages = xrealloc(l->pages, st_mult(st_add(l->npages, 1), sizeof(l->pages[0])));
	l->pages[l->npages++] = BUF_INIT(0);
	l->y = PAGE_H - MARGIN;
}

static bool page_fresh(const struct layout *l)
{
	return l->npages && l->y == PAGE_H - MARGIN;
}

/* "123.45" from centipoints. */
static int put_cpt(struct buf *b, int v)
{
	return buf_printf(b, "%s%d.%02d", v < 0 ? "-" : "", abs(v) / 100, abs(v) % 100);
}

static int put_hex(struct buf *b, const uint16_t *u, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = buf_putc(b, '<');
	for (size_t i = 0; r >= 0 && i < n; i++) {
		char h[4] = { hex[u[i] >> 12], hex[(u[i] >> 8) & 15], hex[(u[i] >> 4) & 15], hex[u[i] & 15] };
		r = buf_append(b, h, 4);
	}
	return r < 0 ? r : buf_putc(b, '>');
}

/* Width of n units at size, centipoints. */
static int text_width(const uint16_t *u, size_t n, int size)
{
	int64_t em = 0;
	for (size_t i = 0; i < n; i++)
		em += advance(u[i]);
	return (int)(em * size / 1000);
}

/* One line of text with its left end of the baseline at (x, y) on the
 * current page. */
static int put_text(struct layout *l, const uint16_t *u, size_t n, int size, int x, int y)
{
	struct buf *b = &l->pages[l->npages - 1];
	for (size_t i = 0; i < n; i++)
		l->used_hi[u[i] >> 8] = true;
	int r = buf_printf(b, "BT /F1 ");
	if (r >= 0 && (r = put_cpt(b, size)) >= 0 && (r = buf_puts(b, " Tf ")) >= 0 && (r = put_cpt(b, x)) >= 0 &&
	    (r = buf_putc(b, ' ')) >= 0 && (r = put_cpt(b, y)) >= 0 && (r = buf_puts(b, " Td ")) >= 0 &&
	    (r = put_hex(b, u, n)) >= 0)
		r = buf_puts(b, " Tj ET\n");
	return r;
}

/* A rectangle: stroked, or filled with gray. */
static int put_rect(struct buf *b, int x, int y, int w, int h, const char *fill_gray)
{
	int r = fill_gray ? buf_printf(b, "%s g ", fill_gray) : buf_puts(b, "0.50 w ");
	if (r >= 0 && (r = put_cpt(b, x)) >= 0 && (r = buf_putc(b, ' ')) >= 0 && (r = put_cpt(b, y)) >= 0 &&
	    (r = buf_putc(b, ' ')) >= 0 && (r = put_cpt(b, w)) >= 0 && (r = buf_putc(b, ' ')) >= 0 &&
	    (r = put_cpt(b, h)) >= 0)
		r = buf_puts(b, fill_gray ? " re f 0 g\n" : " re S\n");
	return r;
}

/* One line at the next baseline (a new page when it would cross the bottom
 * margin).  A link line is blue and underlined, and its rectangle is kept
 * for the page's link annotation. */
static int layout_line(struct layout *l, const uint16_t *u, size_t n, int size, int lead, bool link)
{
	if (!l->npages || l->y - lead - DESCENT(size) < MARGIN)
		layout_new_page(l);
	l->y -= page_fresh(l) ? size : lead;
	while (n && u[n - 1] == ' ')
		n--;
	if (!n)
		return 0;
	if (!link)
		return put_text(l, u, n, size, MARGIN, l->y);

	struct buf *b = &l->pages[l->npages - 1];
	const int w = text_width(u, n, size), under = l->y - size / 10;
	int r = buf_puts(b, "q 0 0 0.8 rg 0 0 0.8 RG\n");
	if (r >= 0)
		r = put_text(l, u, n, size, MARGIN, l->y);
	if (r >= 0 && (r = buf_puts(b, "0.60 w ")) >= 0 && (r = put_cpt(b, MARGIN)) >= 0 && (r = buf_putc(b, ' ')) >= 0 &&
	    (r = put_cpt(b, under)) >= 0 && (r = buf_puts(b, " m ")) >= 0 && (r = put_cpt(b, MARGIN + w)) >= 0 &&
	    (r = buf_putc(b, ' ')) >= 0 && (r = put_cpt(b, under)) >= 0)
		r = buf_puts(b, " l S Q\n");
	l->links = xrealloc(l->links, st_mult(st_add(l->nlinks, 1), sizeof(l->links[0])));
	l->links[l->nlinks++] = (struct link_rect){ .page = l->npages - 1,
						    .x0 = MARGIN - 100,
						    .y0 = l->y - DESCENT(size) - 100,
						    .x1 = MARGIN + w + 100,
						    .y1 = l->y + size * 880 / 1000 + 100 };
	return r;
}

/* A line of a wrapped text: units [start, end). */
struct span {
	size_t start, end;
};

/* Breaks n units into lines at most maxw (1/1000 em) wide.  Returns the
 * lines (caller frees) and their count in *ret_n; an empty line stands for
 * each newline that follows another. */
static struct span *wrap(const uint16_t *u, size_t n, int maxw, size_t *ret_n)
{
	struct span *s = xmalloc(st_mult(st_add(n, 1), sizeof(*s)));
	size_t pos = 0, k = 0;

	while (pos < n) {
		while (pos < n && u[pos] == ' ')
			pos++;
		size_t j = pos, end, last_break = 0;
		int width = 0;
		while (j < n && u[j] != '\n') {
			if (width + advance(u[j]) > maxw && j > pos)
				break;
			width += advance(u[j]);
			if (++j < n && u[j] != '\n' && can_break(u, j))
				last_break = j;
		}
		if (j >= n || u[j] == '\n' || u[j] == ' ')
			end = j;
		else if (last_break > pos)
			end = last_break;
		else
			end = j;                  /* a word wider than the line */
		if (end > pos || (j < n && u[j] == '\n'))
			s[k++] = (struct span){ pos, end };
		pos = end;
		if (pos < n && u[pos] == '\n')
			pos++;
	}
	*ret_n = k;
	return s;
}

/* Decodes s (NULL: empty) into a new array (caller frees). */
static uint16_t *decode_new(const char *s, size_t *ret_n)
{
	size_t len = s ? strlen(s) : 0;
	uint16_t *u = xmalloc(st_mult(st_add(len, 1), sizeof(uint16_t)));
	*ret_n = decode(s ? s : "", len, u);
	return u;
}

/* Wraps one paragraph (UTF-8) to the text width and lays its lines out. */
static int layout_paragraph(struct layout *l, const char *text, int size, int lead, bool link)
{
	size_t n, nlines;
	_cleanup_free_ uint16_t *u = decode_new(text, &n);
	_cleanup_free_ struct span *lines = wrap(u, n, (int)((int64_t)TEXT_W * 1000 / size), &nlines);
	int r = 0;

	for (size_t i = 0; r >= 0 && i < nlines; i++)
		r = layout_line(l, u + lines[i].start, lines[i].end - lines[i].start, size, lead, link);
	return r;
}

/* Column widths for the table: a column whose widest cell fits its fair
 * share of the text width gets what it needs, the others share the rest
 * equally (max-min fairness), so one long column does not squeeze the
 * short ones to a character each. */
static void table_widths(const int *natural, size_t cols, int *ret)
{
	int64_t sum = 0, left = TEXT_W;
	size_t open = cols;
	_cleanup_free_ bool *fixed = xcalloc(cols, sizeof(bool));

	for (size_t c = 0; c < cols; c++)
		sum += natural[c];
	if (sum <= TEXT_W) {
		memcpy(ret, natural, cols * sizeof(int));
		return;
	}
	for (bool changed = true; changed && open;) {
		changed = false;
		for (size_t c = 0; c < cols; c++)
			if (!fixed[c] && natural[c] <= left / (int64_t)open) {
				fixed[c] = changed = true;
				ret[c] = natural[c];
				left -= natural[c];
				open--;
			}
	}
	for (size_t c = 0; c < cols; c++)
		if (!fixed[c])
			ret[c] = (int)(left / (int64_t)open);
}

struct cell_text {
	uint16_t *u;
	size_t n;
};

static int layout_table(struct layout *l, const char *const *cells, size_t rows, size_t cols)
{
	const int size = BODY_SIZE, min_w = 2 * CELL_PAD + size;
	const size_t ncell = st_mult(rows, cols);
	struct cell_text *t = xcalloc(ncell, sizeof(*t));
	_cleanup_free_ int *natural = xcalloc(cols, sizeof(int)), *width = xcalloc(cols, sizeof(int));
	_cleanup_free_ struct span **lines = xcalloc(cols, sizeof(*lines));
	_cleanup_free_ size_t *nlines = xcalloc(cols, sizeof(*nlines));
	int r = 0;

	for (size_t i = 0; i < ncell; i++) {
		t[i].u = decode_new(cells[i], &t[i].n);
		int w = text_width(t[i].u, t[i].n, size) + 2 * CELL_PAD + 1;
		size_t c = i % cols;
		natural[c] = w > TEXT_W ? TEXT_W : w > natural[c] ? w : natural[c];
		if (natural[c] < min_w)
			natural[c] = min_w;
	}
	table_widths(natural, cols, width);

	int top = !l->npages ? PAGE_H - MARGIN : page_fresh(l) ? l->y : l->y - DESCENT(BODY_SIZE) - PARA_GAP;
	if (!l->npages)
		layout_new_page(l);
	for (size_t row = 0; r >= 0 && row < rows; row++) {
		size_t most = 1;
		for (size_t c = 0; c < cols; c++) {
			const struct cell_text *ct = &t[row * cols + c];
			lines[c] = wrap(ct->u, ct->n, (int)((int64_t)(width[c] - 2 * CELL_PAD) * 1000 / size), &nlines[c]);
			most = nlines[c] > most ? nlines[c] : most;
		}
		int h = 2 * CELL_PAD + (int)most * CELL_LEAD;
		if (top - h < MARGIN && !(page_fresh(l) && top == l->y)) {
			layout_new_page(l);
			top = l->y;
		}
		if (top - h < MARGIN) {   /* taller than a page: keep what fits */
			most = (size_t)((top - MARGIN - 2 * CELL_PAD) / CELL_LEAD);
			h = 2 * CELL_PAD + (int)most * CELL_LEAD;
		}
		struct buf *b = &l->pages[l->npages - 1];
		int x = MARGIN;
		for (size_t c = 0; r >= 0 && c < cols; c++) {
			const struct cell_text *ct = &t[row * cols + c];
			if (row == 0)
				r = put_rect(b, x, top - h, width[c], h, HEAD_GRAY);
			if (r >= 0)
				r = put_rect(b, x, top - h, width[c], h, NULL);
			for (size_t i = 0; r >= 0 && i < nlines[c] && i < most; i++) {
				const struct span *s = &lines[c][i];
				size_t n = s->end - s->start;
				while (n && ct->u[s->start + n - 1] == ' ')
					n--;
				if (n)
					r = put_text(l, ct->u + s->start, n, size, x + CELL_PAD,
						     top - CELL_PAD - (int)(i + 1) * CELL_LEAD + DESCENT(size));
			}
			x += width[c];
		}
		for (size_t c = 0; c < cols; c++) {
			free(lines[c]);
			lines[c] = NULL;
		}
		top -= h;
		l->y = top;
	}
	for (size_t i = 0; i < ncell; i++)
		free(t[i].u);
	free(t);
	return r;
}

/* ---- objects ---- */

struct writer {
	struct buf *out;
	size_t base;         /* where the PDF starts in out */
	size_t *offsets;     /* by object number; [0] unused */
	size_t nobj;
	int r;               /* first error */
};

static void w_printf(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_printf(struct writer *w, const char *fmt, ...)
{
	va_list ap;
	if (w->r < 0)
		return;
	va_start(ap, fmt);
	w->r = buf_vprintf(w->out, fmt, ap);
	va_end(ap);
}

static void w_obj(struct writer *w, size_t num)
{
	BUG_ON(num == 0 || num > w->nobj);
	w->offsets[num] = w->out->len - w->base;
	w_printf(w, "%zu 0 obj\n", num);
}

static void w_hex(struct writer *w, const uint16_t *u, size_t n)
{
	if (w->r >= 0)
		w->r = put_hex(w->out, u, n);
}

static void w_cpt(struct writer *w, int v)
{
	if (w->r >= 0)
		w->r = put_cpt(w->out, v);
}

/* A URI action.  The URL passed attach__url_ok(): printable ASCII, so
 * only the string delimiters need a backslash. */
static void w_uri_action(struct writer *w, const char *url)
{
	w_printf(w, "<< /S /URI /URI (");
	for (const char *p = url; w->r >= 0 && *p; p++) {
		if (*p == '(' || *p == ')' || *p == '\\')
			w_printf(w, "\\");
		w_printf(w, "%c", *p);
	}
	w_printf(w, ") >>");
}

/* Object numbers: the fixed ones, then a page and its contents per page,
 * then the link annotations. */
enum { OBJ_CATALOG = 1, OBJ_PAGES, OBJ_FONT, OBJ_CIDFONT, OBJ_DESCRIPTOR, OBJ_TOUNICODE, OBJ_INFO, OBJ_FIRST_PAGE };

int attach__pdf_tounicode(const bool used_hi[256], struct buf *cmap)
{
	size_t nranges = 0, done = 0;
	int r;

	for (size_t h = 0; h < 256; h++)
		nranges += used_hi[h];
	r = buf_puts(cmap, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
			   "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
			   "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
			   "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
	/* The codes are UTF-16 units already: each range maps to itself.  A
	 * bfrange may only vary in its last byte, and a block holds at most 100. */
	for (size_t h = 0; r >= 0 && h < 256; h++) {
		if (!used_hi[h])
			continue;
		if (done % 100 == 0)
			r = buf_printf(cmap, "%zu beginbfrange\n", nranges - done < 100 ? nranges - done : (size_t)100);
		if (r >= 0)
			r = buf_printf(cmap, "<%02zX00> <%02zXFF> <%02zX00>\n", h, h, h);
		if (r >= 0 && (++done % 100 == 0 || done == nranges))
			r = buf_puts(cmap, "endbfrange\n");
	}
	if (r >= 0)
		r = buf_puts(cmap, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
	return r < 0 ? -E2BIG : 0;
}

static void w_tounicode(struct writer *w, const bool used_hi[256])
{
	_cleanup_buf_ struct buf cmap = BUF_INIT(0);
	int r = attach__pdf_tounicode(used_hi, &cmap);
	if (r < 0) {
		if (w->r >= 0)
			w->r = r;
		return;
	}
	w_obj(w, OBJ_TOUNICODE);
	w_printf(w, "<< /Length %zu >>\nstream\n", cmap.len);
	if (w->r >= 0)
		w->r = buf_append(w->out, cmap.p, cmap.len);
	w_printf(w, "\nendstream\nendobj\n");
}

/* Whether s shows anything: not only spaces, newlines and what decode()
 * drops (controls). */
static bool visible(const char *s)
{
	size_t n;
	_cleanup_free_ uint16_t *u = decode_new(s, &n);
	for (size_t i = 0; i < n; i++)
		if (u[i] != ' ' && u[i] != '\n')
			return true;
	return false;
}

static int layout_doc(struct layout *l, const struct attach_doc *d)
{
	int r = 0;

	if (d->title && *d->title) {
		r = layout_paragraph(l, d->title, TITLE_SIZE, TITLE_LEAD, false);
		l->y -= TITLE_GAP;
	}
	if (r >= 0 && d->link_url) {
		/* a link text that shows nothing would leave no line to click
		 * and so no link annotation: the default text instead */
		const char *text = d->link_text && visible(d->link_text) ? d->link_text
				   : d->lang && !strcmp(d->lang, "en") ? "Click here to view the content"
								       : "内容を表示するにはこちらをクリックしてください";
		if (l->npages && !page_fresh(l))
			l->y -= PARA_GAP;
		r = layout_paragraph(l, text, BODY_SIZE, BODY_LEAD, true);
	}
	for (size_t i = 0; r >= 0 && i < d->nbody; i++) {
		if (!d->body[i] || !*d->body[i])
			continue;
		if (l->npages && !page_fresh(l))
			l->y -= PARA_GAP;
		r = layout_paragraph(l, d->body[i], BODY_SIZE, BODY_LEAD, false);
	}
	if (r >= 0 && d->rows && d->cols)
		r = layout_table(l, d->cells, d->rows, d->cols);
	if (r >= 0 && !l->npages)
		layout_new_page(l);   /* an empty document still has a page */
	return r;
}

/* Writes the document laid out in l. */
static void write_doc(struct writer *w, const struct layout *l, const struct attach_doc *d)
{
	const size_t first_annot = OBJ_FIRST_PAGE + 2 * l->npages;

	w_printf(w, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
	w_obj(w, OBJ_CATALOG);
	w_printf(w, "<< /Type /Catalog /Pages %d 0 R", OBJ_PAGES);
	if (d->lang)
		w_printf(w, " /Lang (%s)", strcmp(d->lang, "en") ? "ja-JP" : "en-US");
	if (d->beacon_url) {
		w_printf(w, " /OpenAction ");
		w_uri_action(w, d->beacon_url);
	}
	w_printf(w, " >>\nendobj\n");
	w_obj(w, OBJ_PAGES);
	w_printf(w, "<< /Type /Pages /Count %zu /Kids [", l->npages);
	for (size_t i = 0; i < l->npages; i++)
		w_printf(w, "%s%zu 0 R", i ? " " : "", OBJ_FIRST_PAGE + 2 * i);
	w_printf(w, "] >>\nendobj\n");
	w_obj(w, OBJ_FONT);
	w_printf(w, ATTACH_PDF_FONT_TYPE0 "\nendobj\n", (unsigned)OBJ_CIDFONT, (unsigned)OBJ_TOUNICODE);
	w_obj(w, OBJ_CIDFONT);
	w_printf(w, ATTACH_PDF_FONT_CID "\nendobj\n", (unsigned)OBJ_DESCRIPTOR);
	w_obj(w, OBJ_DESCRIPTOR);
	w_printf(w, ATTACH_PDF_FONT_DESCRIPTOR "\nendobj\n");
	w_tounicode(w, l->used_hi);
	w_obj(w, OBJ_INFO);
	w_printf(w, "<< /Producer (Kunren)");
	if (d->title && *d->title) {
		size_t tl = strlen(d->title);
		_cleanup_free_ uint16_t *u = xmalloc(st_mult(st_add(tl, 2), sizeof(uint16_t)));
		u[0] = 0xfeff;   /* a text string in UTF-16BE starts with its BOM */
		size_t un = decode(d->title, tl, u + 1);
		for (size_t i = 1; i <= un; i++)
			if (u[i] == '\n')
				u[i] = ' ';
		w_printf(w, " /Title ");
		w_hex(w, u, un + 1);
	}
	w_printf(w, " >>\nendobj\n");
	for (size_t i = 0; i < l->npages; i++) {
		size_t page = OBJ_FIRST_PAGE + 2 * i;
		w_obj(w, page);
		w_printf(w, "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595.28 841.89] "
			    "/Resources << /Font << /F1 %d 0 R >> >> /Contents %zu 0 R",
			 OBJ_PAGES, OBJ_FONT, page + 1);
		bool any = false;
		for (size_t k = 0; k < l->nlinks; k++)
			if (l->links[k].page == i) {
				w_printf(w, "%s%zu 0 R", any ? " " : " /Annots [", first_annot + k);
				any = true;
			}
		if (any)
			w_printf(w, "]");
		if (i == 0 && d->beacon_url) {
			w_printf(w, " /AA << /O ");
			w_uri_action(w, d->beacon_url);
			w_printf(w, " >>");
		}
		w_printf(w, " >>\nendobj\n");
		w_obj(w, page + 1);
		w_printf(w, "<< /Length %zu >>\nstream\n", l->pages[i].len);
		if (w->r >= 0)
			w->r = buf_append(w->out, l->pages[i].p, l->pages[i].len);
		w_printf(w, "endstream\nendobj\n");
	}
	for (size_t k = 0; k < l->nlinks; k++) {
		const struct link_rect *lr = &l->links[k];
		w_obj(w, first_annot + k);
		w_printf(w, "<< /Type /Annot /Subtype /Link /Rect [");
		w_cpt(w, lr->x0);
		w_printf(w, " ");
		w_cpt(w, lr->y0);
		w_printf(w, " ");
		w_cpt(w, lr->x1);
		w_printf(w, " ");
		w_cpt(w, lr->y1);
		w_printf(w, "] /Border [0 0 0] /P %zu 0 R /A ", OBJ_FIRST_PAGE + 2 * lr->page);
		w_uri_action(w, d->link_url);
		w_printf(w, " >>\nendobj\n");
	}

	size_t xref = w->out->len - w->base;
	w_printf(w, "xref\n0 %zu\n0000000000 65535 f \n", w->nobj + 1);
	for (size_t i = 1; i <= w->nobj; i++)
		w_printf(w, "%010zu 00000 n \n", w->offsets[i]);
	w_printf(w, "trailer\n<< /Size %zu /Root %d 0 R /Info %d 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
		 w->nobj + 1, OBJ_CATALOG, OBJ_INFO, xref);
}

int attach__pdf(const struct attach_doc *d, struct buf *out)
{
	struct layout l = { 0 };
	int r = layout_doc(&l, d);
	if (r < 0) {
		layout_release(&l);
		return r;
	}

	struct writer w = { .out = out, .base = out->len, .nobj = OBJ_FIRST_PAGE - 1 + 2 * l.npages + l.nlinks };
	w.offsets = xcalloc(w.nobj + 1, sizeof(size_t));
	write_doc(&w, &l, d);
	free(w.offsets);
	layout_release(&l);
	if (w.r < 0 && out->len != w.base) {
		out->len = w.base;    /* on error out is left as it was */
		out->p[out->len] = '\0';
	}
	return w.r < 0 ? w.r : 0;
}
