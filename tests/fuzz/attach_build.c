/*
 * Fuzz target for the generated training files: attach_build (docx, xlsx,
 * pdf) over a document made from the input, and attach_zip around it.
 * Trainer text reaches these writers after merge fields are filled in, so
 * every string may hold anything a C string can: invalid UTF-8, controls,
 * XML and PDF metacharacters, megabytes of it.
 *
 * Input: two header bytes, then fields separated by NUL bytes:
 *   h0  bits 0-1 kind (3: a plain zip of raw bytes only), 2-3 lang (NULL,
 *       "ja", "en", "xx"), 4-5 beacon URL, 6-7 link URL (0 none, 1 a valid
 *       http URL ending in the field's URL characters, 2 the field as is,
 *       3 a fixed valid URL with & ' ( ) in it)
 *   h1  bits 0-3 paragraphs, bits 4-6 archive (1 zip, 2 password, 3 aes,
 *       4-7 none: refused; 0 no archive), bit 7 a tiny cap on out
 *   h2  rows (bits 0-2) and columns (bits 3-5)
 *   h3  the title is repeated h3 × 1 KiB (huge text, capped at 256 KiB)
 *   fields: title, link text, beacon tail, link tail, zip name, password,
 *   then paragraphs and cells (a field "\x01" is a NULL cell); fields run
 *   out → empty strings.
 *
 * Beyond "no crash, no leak" it checks:
 * - the result is what the contract says (0 for a valid document within the
 *   limits, -EINVAL for a bad lang or a row/column mismatch), and a failed
 *   build leaves out as it was;
 * - docx/xlsx open with libzip from memory, every .xml/.rels part is valid
 *   UTF-8 without XML-forbidden controls, its tags nest (attach__xml_check),
 *   every '&' in text or attribute values starts an entity and no raw '<'
 *   sits in either; the title decodes back from docProps/core.xml; the
 *   beacon relationship names the beacon URL, external; attach_check
 *   accepts the package as the same kind;
 * - a pdf starts with %PDF-1.4, ends with %%EOF, carries each URL as a
 *   correctly escaped /URI string and passes attach_check (see below);
 * - attach_zip accepts exactly the names and passwords attach.h allows,
 *   and its archive opens with libzip (the password given), holding one
 *   entry of that name with the file's bytes.
 */
#include <ctype.h>
#include <zip.h>

#include "attach/attach_int.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "failed: %s\n", #cond); abort(); } } while (0)

#define TEXT_CAP ((size_t)256 << 10)
#define FIELDS_MAX 512
#define BEACON_BASE "http://127.0.0.1:8080/o/"
#define LINK_BASE "https://drill.example.jp/l/"
#define FIXED_URL "http://127.0.0.1/o/r?a=1&b='x'&c=(y)#z"

static const char *field(char *const *f, size_t n, size_t i)
{
	return i < n ? f[i] : "";
}

/* mode 1: base + the tail's URL characters; 2: the tail as is; 3: fixed */
static char *make_url(unsigned mode, const char *base, const char *tail)
{
	static const char allowed[] = "-._~:/?#[]@!$&'()*+,;=%";
	struct buf b = BUF_INIT(0);

	if (mode == 0)
		return NULL;
	if (mode == 3)
		return xstrdup(FIXED_URL);
	if (mode == 1) {
		CHECK(buf_puts(&b, base) == 0);
		for (const char *p = tail; *p && b.len < 1024; p++)
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr(allowed, *p))
				CHECK(buf_putc(&b, *p) == 0);
	} else {
		CHECK(buf_puts(&b, tail) == 0);
	}
	return buf_steal(&b);
}

/* ---- XML parts ---- */

/* s[i] == '&': the length of the entity or character reference, or 0. */
static size_t entity_len(struct slice s, size_t i)
{
	static const char *const names[] = { "amp;", "lt;", "gt;", "quot;", "apos;" };
	struct slice rest = { s.p + i + 1, s.len - i - 1 };
	for (size_t k = 0; k < ARRAY_SIZE(names); k++)
		if (slice_starts_with(rest, names[k]))
			return 1 + strlen(names[k]);
	if (!rest.len || rest.p[0] != '#')
		return 0;
	size_t j = 1;
	bool hex = j < rest.len && rest.p[j] == 'x';
	j += hex;
	size_t digits = 0;
	while (j < rest.len && (hex ? isxdigit((unsigned char)rest.p[j]) : isdigit((unsigned char)rest.p[j])))
		j++, digits++;
	return digits && j < rest.len && rest.p[j] == ';' ? j + 2 : 0;
}

/* Character data or an attribute value: no '<', every '&' an entity. */
static bool chars_ok(struct slice s)
{
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '<')
			return false;
		if (s.p[i] == '&') {
			size_t n = entity_len(s, i);
			if (!n)
				return false;
			i += n - 1;
		}
	}
	return true;
}

static bool xml_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The raw attributes of a tag: name="value" or name='value' pairs. */
static bool attrs_ok(struct slice a)
{
	size_t i = 0;
	for (;;) {
		while (i < a.len && xml_ws(a.p[i]))
			i++;
		if (i == a.len)
			return true;
		size_t name = i;
		while (i < a.len && a.p[i] != '=' && !xml_ws(a.p[i]))
			i++;
		if (i == name || i >= a.len || a.p[i] != '=' || i + 1 >= a.len)
			return false;
		char q = a.p[++i];
		if (q != '"' && q != '\'')
			return false;
		const char *end = memchr(a.p + i + 1, q, a.len - i - 1);
		if (!end || !chars_ok((struct slice){ a.p + i + 1, (size_t)(end - a.p) - i - 1 }))
			return false;
		i = (size_t)(end - a.p) + 1;
	}
}

static void check_xml_part(const char *name, struct slice doc)
{
	struct xml_tag t;
	size_t pos = 0, prev = 0;
	bool first = true;
	int r;

	if (!attach__utf8_valid(doc.p, doc.len))
		fprintf(stderr, "%s is not UTF-8\n", name);
	CHECK(attach__utf8_valid(doc.p, doc.len));
	for (size_t i = 0; i < doc.len; i++)
		CHECK((unsigned char)doc.p[i] >= 0x20 || doc.p[i] == '\t' || doc.p[i] == '\n' || doc.p[i] == '\r');
	CHECK(!memmem(doc.p, doc.len, "\xef\xbf\xbe", 3) && !memmem(doc.p, doc.len, "\xef\xbf\xbf", 3));
	if (attach__xml_check(doc) < 0)
		fprintf(stderr, "%s is not well-formed\n", name);
	CHECK(attach__xml_check(doc) == 0);
	while ((r = attach__xml_next(doc, &pos, &t)) > 0) {
		/* before the first tag: the XML declaration, which we write */
		if (!first)
			CHECK(chars_ok((struct slice){ doc.p + prev, t.start - prev }));
		CHECK(attrs_ok(t.attrs));
		first = false;
		prev = t.end;
	}
	CHECK(r == 0);
	CHECK(chars_ok((struct slice){ doc.p + prev, doc.len - prev }));
}

/* Decodes the five entities of a checked text (chars_ok) into a new string. */
static char *xml_decode(struct slice s)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' } };
	struct buf b = BUF_INIT(0);
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		bool known = c != '&';
		for (size_t k = 0; !known && k < ARRAY_SIZE(ents); k++)
			if (slice_starts_with((struct slice){ s.p + i, s.len - i }, ents[k].ent)) {
				c = ents[k].c;
				i += strlen(ents[k].ent) - 1;
				known = true;
			}
		CHECK(known);    /* we write no character references */
		CHECK(buf_putc(&b, c) == 0);
	}
	return buf_steal(&b);
}

/* Whether s goes into XML unchanged: valid UTF-8 without what XML 1.0
 * forbids (C0 controls but tab and newline, U+FFFE, U+FFFF). */
static bool xml_clean(const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n')
			return false;
	return attach__utf8_valid(s, len) && !memmem(s, len, "\xef\xbf\xbe", 3) && !memmem(s, len, "\xef\xbf\xbf", 3);
}

/* Returns whether a part packs more than ATTACH_ZIP_RATIO_MAX:1 beyond the
 * checker's 256 KiB floor (attach_check then calls it a zip bomb). */
static bool check_ooxml(enum attach_kind kind, struct slice file, const struct attach_doc *d)
{
	bool dense = false;
	zip_error_t err;
	zip_error_init(&err);
	zip_source_t *src = zip_source_buffer_create(file.p, file.len, 0, &err);
	CHECK(src);
	zip_t *z = zip_open_from_source(src, ZIP_CHECKCONS | ZIP_RDONLY, &err);
	if (!z)
		fprintf(stderr, "libzip: %s\n", zip_error_strerror(&err));
	CHECK(z);
	zip_error_fini(&err);

	_cleanup_buf_ struct buf part = BUF_INIT(0);
	zip_int64_t n = zip_get_num_entries(z, 0);
	CHECK(n >= 6);
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
		CHECK(name);
		size_t nl = strlen(name);
		zip_stat_t st;
		CHECK(zip_stat_index(z, (zip_uint64_t)i, 0, &st) == 0);
		dense = dense || (st.size > ((zip_uint64_t)256 << 10) && st.size / ATTACH_ZIP_RATIO_MAX > st.comp_size);
		CHECK(attach__zip_read(z, name, ATTACH_PART_MAX, &part) == 0);
		if ((nl > 4 && !strcmp(name + nl - 4, ".xml")) || (nl > 5 && !strcmp(name + nl - 5, ".rels")))
			check_xml_part(name, buf_slice(&part));
	}

	/* the title comes back as it went in (when XML can carry it) */
	CHECK(attach__zip_read(z, "docProps/core.xml", ATTACH_PART_MAX, &part) == 0);
	const char *a = strstr(part.p, "<dc:title>"), *b = strstr(part.p, "</dc:title>");
	CHECK(a && b && b >= a + 10);
	_cleanup_free_ char *title = xml_decode((struct slice){ a + 10, (size_t)(b - a) - 10 });
	if (d->title && xml_clean(d->title))
		CHECK(!strcmp(title, d->title));

	/* the beacon: an external image relationship to exactly beacon_url */
	const char *rels = kind == ATTACH_DOCX ? "word/_rels/document.xml.rels" : "xl/drawings/_rels/drawing1.xml.rels";
	int r = attach__zip_read(z, rels, ATTACH_PART_MAX, &part);
	if (d->beacon_url) {
		_cleanup_buf_ struct buf target = BUF_INIT(0);
		bool external = false;
		CHECK(r == 0);
		CHECK(attach__rels_find(buf_slice(&part), NULL, kind == ATTACH_DOCX ? "rId10" : "rId1", &target,
					&external) == 0);
		CHECK(external && !strcmp(target.p, d->beacon_url));
	} else if (kind == ATTACH_XLSX) {
		CHECK(r == -ENOENT);
	}
	zip_close(z);
	return dense;
}

/* ---- PDF ---- */

static void check_uri(struct slice pdf, const char *url)
{
	_cleanup_buf_ struct buf want = BUF_INIT(0);
	CHECK(buf_puts(&want, "/URI (") == 0);
	for (const char *p = url; *p; p++) {
		if (*p == '(' || *p == ')' || *p == '\\')
			CHECK(buf_putc(&want, '\\') == 0);
		CHECK(buf_putc(&want, *p) == 0);
	}
	CHECK(buf_puts(&want, ") >>") == 0);
	CHECK(memmem(pdf.p, pdf.len, want.p, want.len));
}

static void check_pdf(struct slice file, const struct attach_doc *d)
{
	CHECK(file.len > 20 && !memcmp(file.p, "%PDF-1.4\n", 9));
	CHECK(!memcmp(file.p + file.len - 6, "%%EOF\n", 6));
	if (d->beacon_url)
		check_uri(file, d->beacon_url);
	if (d->link_url)
		check_uri(file, d->link_url);
}

/* ---- zip archives ---- */

static bool zip_name_ok(const char *name)
{
	if (!*name || strlen(name) > 255 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			return false;
	return attach__utf8_valid(name, strlen(name));
}

static void fuzz_zip(const char *name, struct slice file, unsigned archive, const char *password)
{
	enum attach_archive a = archive == 1 ? ATTACH_ARCHIVE_ZIP : archive == 2 ? ATTACH_ARCHIVE_PASSWORD
			      : archive == 3 ? ATTACH_ARCHIVE_AES : ATTACH_ARCHIVE_NONE;
	bool encrypted = a == ATTACH_ARCHIVE_PASSWORD || a == ATTACH_ARCHIVE_AES;
	bool valid = a != ATTACH_ARCHIVE_NONE && zip_name_ok(name) &&
		     (!encrypted || (*password && strlen(password) <= 128));
	_cleanup_buf_ struct buf out = BUF_INIT(0);

	CHECK(buf_puts(&out, "head") == 0);
	int r = attach_zip(name, file, a, password, &out);
	CHECK(valid ? r == 0 : r == -EINVAL);
	if (r < 0) {
		CHECK(out.len == 4 && !memcmp(out.p, "head", 4));
		return;
	}
	CHECK(!memcmp(out.p, "head", 4));

	zip_error_t err;
	zip_error_init(&err);
	zip_source_t *src = zip_source_buffer_create(out.p + 4, out.len - 4, 0, &err);
	CHECK(src);
	zip_t *z = zip_open_from_source(src, ZIP_CHECKCONS | ZIP_RDONLY, &err);
	if (!z)
		fprintf(stderr, "libzip: %s\n", zip_error_strerror(&err));
	CHECK(z);
	zip_error_fini(&err);
	CHECK(zip_get_num_entries(z, 0) == 1);
	const char *got = zip_get_name(z, 0, ZIP_FL_ENC_RAW);
	CHECK(got && !strcmp(got, name));
	zip_stat_t st;
	CHECK(zip_stat_index(z, 0, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE) && st.size == file.len);
	CHECK((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
	      st.encryption_method == (a == ATTACH_ARCHIVE_PASSWORD ? ZIP_EM_TRAD_PKWARE
				       : a == ATTACH_ARCHIVE_AES    ? ZIP_EM_AES_256
								    : ZIP_EM_NONE));
	zip_file_t *f = zip_fopen_index_encrypted(z, 0, 0, encrypted ? password : NULL);
	if (!f)
		fprintf(stderr, "libzip: %s\n", zip_strerror(z));
	CHECK(f);
	char *data = xmalloc(file.len + 1);
	zip_int64_t got_len = zip_fread(f, data, file.len + 1);
	CHECK(got_len >= 0 && (size_t)got_len == file.len && !memcmp(data, file.p, file.len));
	free(data);
	zip_fclose(f);
	zip_close(z);
}

/* ---- the document ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4 || size > 64 * 1024)
		return 0;
	const unsigned h0 = data[0], h1 = data[1], h2 = data[2], h3 = data[3];
	const unsigned kind = h0 & 3, lang = (h0 >> 2) & 3, beacon = (h0 >> 4) & 3, link = (h0 >> 6) & 3;
	const unsigned nbody = h1 & 15, archive = (h1 >> 4) & 7, rows = h2 & 7, cols = (h2 >> 3) & 7;
	const bool tiny = h1 & 0x80;

	char *copy = xmalloc(size - 4 + 1);
	memcpy(copy, data + 4, size - 4);
	copy[size - 4] = '\0';
	char *f[FIELDS_MAX];
	size_t nf = 0;
	for (size_t i = 0, start = 0; i <= size - 4 && nf < FIELDS_MAX; i++)
		if (i == size - 4 || copy[i] == '\0') {
			copy[i] = '\0';
			f[nf++] = copy + start;
			start = i + 1;
		}

	if (kind == 3) {   /* attach_zip over the fields' bytes, no document */
		fuzz_zip(field(f, nf, 4), (struct slice){ field(f, nf, 6), strlen(field(f, nf, 6)) }, archive,
			 field(f, nf, 5));
		free(copy);
		return 0;
	}

	/* a huge title: the field repeated, up to TEXT_CAP */
	_cleanup_free_ char *title = NULL;
	const char *t0 = field(f, nf, 0);
	if (h3 && *t0) {
		size_t tl = strlen(t0), want = (size_t)h3 << 10;
		want = want > TEXT_CAP ? TEXT_CAP : want;
		title = xmalloc(want + 1);
		for (size_t i = 0; i < want; i += tl)
			memcpy(title + i, t0, want - i < tl ? want - i : tl);
		title[want] = '\0';
	}
	_cleanup_free_ char *beacon_url = make_url(beacon, BEACON_BASE, field(f, nf, 2));
	_cleanup_free_ char *link_url = make_url(link, LINK_BASE, field(f, nf, 3));
	const char *body[16], *cells[64];
	size_t next = 6;
	for (size_t i = 0; i < nbody; i++)
		body[i] = field(f, nf, next++);
	for (size_t i = 0; i < rows * cols; i++) {
		const char *c = field(f, nf, next++);
		cells[i] = !strcmp(c, "\x01") ? NULL : c;
	}
	static const char *const langs[] = { NULL, "ja", "en", "xx" };
	struct attach_doc d = {
		.title = title ? title : t0,
		.body = nbody ? body : NULL,
		.nbody = nbody,
		.cells = rows || cols ? cells : NULL,
		.rows = rows,
		.cols = cols,
		.lang = langs[lang],
		.beacon_url = beacon_url,
		.link_url = link_url,
		.link_text = *field(f, nf, 1) ? field(f, nf, 1) : NULL,
	};

	/* what the contract says */
	bool valid = lang != 3 && !rows == !cols && (beacon != 2 || attach__url_ok(beacon_url)) &&
		     (link != 2 || attach__url_ok(link_url));
	CHECK(beacon != 1 || attach__url_ok(beacon_url));
	CHECK(link != 1 || attach__url_ok(link_url));

	struct buf out;
	buf_init(&out, tiny ? 4 + (size_t)h3 * 16 : 0);
	CHECK(buf_puts(&out, "head") == 0);
	int r = attach_build((enum attach_kind)kind, &d, &out);
	if (!valid)
		CHECK(r == -EINVAL);
	else if (!tiny)
		CHECK(r == 0);
	else
		CHECK(r == 0 || r == -E2BIG);
	if (r < 0) {
		CHECK(out.len == 4 && !memcmp(out.p, "head", 4) && out.p[4] == '\0');
		buf_release(&out);
		free(copy);
		return 0;
	}
	CHECK(!memcmp(out.p, "head", 4));
	struct slice file = { out.p + 4, out.len - 4 };

	bool dense = false;
	if (kind == ATTACH_PDF)
		check_pdf(file, &d);
	else
		dense = check_ooxml((enum attach_kind)kind, file, &d);

	enum attach_kind got;
	const char *msg = NULL;
	r = attach_check(file, &got, &msg);
	if (r < 0 && kind == ATTACH_PDF && msg && !strncmp(msg, "PDF contains", 12) && (d.beacon_url || d.link_url)) {
		/* attach_check refuses active names even inside strings (a false
		 * alarm beats trusting a string's extent, pdfparse.c), so a URL
		 * with "/JS" or "/Launch" in its path trips it.  Only the URL may:
		 * the same document with plain URLs must pass. */
		struct attach_doc plain = d;
		plain.beacon_url = d.beacon_url ? BEACON_BASE "r" : NULL;
		plain.link_url = d.link_url ? LINK_BASE "r" : NULL;
		_cleanup_buf_ struct buf again = BUF_INIT(0);
		CHECK(attach_build(ATTACH_PDF, &plain, &again) == 0);
		msg = NULL;
		r = attach_check(buf_slice(&again), &got, &msg);
	}
	/* Known gap (not fixed here): highly repetitive text (a title or cell
	 * repeated thousands of times) deflates beyond 200:1, and attach_check
	 * takes our own package for a zip bomb.  Only then may it refuse. */
	if (r < 0 && dense && msg && strstr(msg, "zip bomb"))
		r = 0, got = (enum attach_kind)kind;
	if (r < 0)
		fprintf(stderr, "built %s refused: %s\n", attach_kind_name((enum attach_kind)kind), msg);
	CHECK(r == 0 && got == (enum attach_kind)kind);

	if (archive)
		fuzz_zip(field(f, nf, 4), file, archive, field(f, nf, 5));
	buf_release(&out);
	free(copy);
	return 0;
}
