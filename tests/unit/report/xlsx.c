/* Tests of src/report/xlsx.c: report_workbook builds a real xlsx (a zip
 * with the five sheets and their charts) from a campaign in a temporary
 * store, applies the exclusion switch, writes names as text, splits a full
 * sheet, and leaves no file and no open descriptor behind on any path.
 * The sheets' XML is read back with python3's zipfile (stdlib). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <unistd.h>

/* A sheet holds 8 rows here (header + 7), so the continuation is tested. */
#define XLSX_ROW_MAX 8
#include "report/xlsx.c"
#include "../teststore.h" /* test_db_new: SQLite, or PostgreSQL with KUNREN_TEST_PG */

/* Launch with everyone due at once, and let the campaign clock start it. */
static int launch_now(struct store *s, int64_t tenant, int64_t cid, int64_t *ret_n)
{
	int r = store_campaign_launch(s, tenant, cid, now_unix(), 10, store_plan_at_once, NULL, ret_n, NULL);
	if (r >= 0)
		store_campaigns_tick(s, now_unix());
	return r;
}

/* Claim due targets and mark them being sent, as a delivery worker does. */
static inline int claim_and_begin(struct store *s, size_t limit, struct arena *a, struct target **t, size_t *n)
{
	int r = store_targets_claim(s, 0, now_unix(), limit, a, t, n);
	for (size_t i = 0; r >= 0 && i < *n; i++)
		if (store_target_begin(s, (*t)[i].id) != 1)
			r = -EIO;
	return r;
}

/* The clock's "sending -> running" step, counted. */
static inline int store_campaigns_tick_now(struct store *s)
{
	return store_campaigns_tick(s, now_unix());
}

struct fixture {
	char dir[64], tmp[80];
	char *where; /* the database: test_db_new */
	struct store *s;
	struct arena *a;
	int64_t tenant;
	const struct tz *zone;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *err = NULL;
	int applied;
	snprintf(f->dir, sizeof(f->dir), "/tmp/kunren-xlsx-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->tmp, sizeof(f->tmp), "%s/tmp", f->dir);
	assert_int_equal(mkdir_p(f->tmp, 0700), 0);
	setenv("TMPDIR", f->tmp, 1); /* report_workbook's scratch file goes here */
	f->where = test_db_new(f->dir);
	assert_int_equal(store_open(f->where, &f->s, &err), 0);
	assert_int_equal(store_migrate(f->s, &applied), 0);
	assert_int_equal(store_tenant_create(f->s, "A社", "Asia/Tokyo", &f->tenant), 0);
	f->zone = tz_get("Asia/Tokyo");
	assert_non_null(f->zone);
	f->a = arena_new(0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unsetenv("TMPDIR");
	arena_free(f->a);
	store_close(f->s);
	test_db_remove(f->where, f->dir);
	free(f);
	return 0;
}

/* ---- a campaign with known reactions ---- */

struct drill {
	struct campaign c;
	int64_t t0_ms;
};

static int64_t make_list(struct fixture *f)
{
	static const char *const people[][PF__COUNT] = {
		{ "山田", "太郎", "yamada@example.co.jp", "営業部", "部長", "", "", "" },
		{ "=1+2", "-3", "formula@example.co.jp", "営業部", "@SUM(A1)", "+81", "", "" },
		{ "佐藤", "花子", "sato@example.co.jp", "総務部", "課長", "", "", "" },
		{ "鈴木", "一郎", "suzuki@example.co.jp", "総務部", "", "", "", "" },
		{ "田中", "次郎", "tanaka@example.co.jp", "", "部長", "", "", "" },
		{ "高橋", "三郎", "bounce@example.co.jp", "営業部", "", "", "", "" },
	};
	struct person rows[ARRAY_SIZE(people)];
	for (size_t i = 0; i < ARRAY_SIZE(people); i++) {
		rows[i] = (struct person){ 0 };
		for (int k = 0; k < PF__COUNT; k++)
			rows[i].f[k] = people[i][k];
	}
	int64_t id, added, updated;
	assert_int_equal(store_list_create(f->s, f->tenant, "全社", &id), 0);
	assert_int_equal(store_recipients_import(f->s, f->tenant, id, rows, ARRAY_SIZE(rows), &added, &updated), 0);
	return id;
}

static int64_t make_scenario(struct fixture *f)
{
	struct scenario_rec sc = {
		.name = "宅配便の不在通知", .description = "", .genre = "その他", .type = "URLリンク型", .level = "初級",
		.lang = "ja", .subject = "件名", .html = "<p>{{URL}}</p>", .text = "{{URL}}", .sender_name = "",
		.sender_local = "it", .sender_domain = "example.co.jp", .explain_html = "<p>訓練</p>",
	};
	int64_t id;
	assert_int_equal(store_scenario_create(f->s, f->tenant, &sc, &id), 0);
	return id;
}

static void add_event(struct fixture *f, const struct target *t, enum event_kind k, int64_t at_ms)
{
	struct event e = { .campaign_id = t->campaign_id, .target_id = t->id, .kind = k, .at_ms = at_ms,
			   .ip = "192.0.2.7", .user_agent = "Mozilla/5.0", .os = "Windows", .browser = "Edge" };
	assert_int_equal(store_events_add(f->s, &e, 1), 0);
}

/*
 * Six targets, five sent, one bounced; exclusion 60 s.  Reactions (seconds
 * after delivery): t0 opens 120, clicks 130, submits 140; t1 opens 10
 * (machine) and clicks 200; t2 opens the file 300 and reports 400; t3 does
 * nothing; t4 clicks 5 (machine); t5 bounced.
 */
static void make_drill(struct fixture *f, const char *name, struct drill *ret)
{
	int64_t list = make_list(f), sc = make_scenario(f), id, n;
	struct campaign c = { .name = name, .scenario_id = sc, .sender_name = "情報システム部",
			      .sender_local = "it", .sender_domain = "example.co.jp", .list_ids = &list,
			      .nlist_ids = 1, .exclusion_seconds = 60 };
	assert_int_equal(store_campaign_create(f->s, f->tenant, &c, &id), 0);
	assert_int_equal(launch_now(f->s, f->tenant, id, &n), 0);
	assert_int_equal(n, 6);
	struct target *t;
	size_t nt;
	assert_int_equal(claim_and_begin(f->s, 10, f->a, &t, &nt), 0);
	assert_int_equal(nt, 6);
	int64_t sent = (now_ms() / 1000 - 3600) * 1000;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(store_target_sent(f->s, t[i].id, sent, "<m@x>"), 0);
	assert_int_equal(store_target_failed(f->s, t[5].id, sent, "550 no such user"), 0);
	add_event(f, &t[0], EV_OPENED, sent + 120000);
	add_event(f, &t[0], EV_CLICKED, sent + 130000);
	add_event(f, &t[0], EV_SUBMITTED, sent + 140000);
	add_event(f, &t[1], EV_OPENED, sent + 10000);
	add_event(f, &t[1], EV_CLICKED, sent + 200000);
	add_event(f, &t[2], EV_FILE_OPENED, sent + 300000);
	add_event(f, &t[2], EV_REPORTED, sent + 400000);
	add_event(f, &t[4], EV_CLICKED, sent + 5000);
	assert_int_equal(store_campaigns_tick_now(f->s), 1);
	assert_int_equal(store_campaign_get(f->s, f->tenant, id, f->a, &ret->c), 0);
	ret->t0_ms = sent;
}

/* ---- reading the zip back ---- */

static uint32_t le16(const unsigned char *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return le16(p) | le16(p + 2) << 16; }

/* The member names of a zip, from its central directory, each followed by
 * a newline in ret. */
static void zip_names(const struct buf *zip, struct buf *ret)
{
	const unsigned char *z = (const unsigned char *)zip->p;
	size_t eocd = zip->len;
	assert_true(zip->len >= 22);
	for (size_t i = zip->len - 22 + 1; i-- > 0;)
		if (le32(z + i) == 0x06054b50) {
			eocd = i;
			break;
		}
	assert_true(eocd < zip->len);
	uint32_t count = le16(z + eocd + 10), off = le32(z + eocd + 16);
	for (uint32_t i = 0; i < count; i++) {
		assert_true((size_t)off + 46 <= eocd);
		assert_int_equal(le32(z + off), 0x02014b50);
		uint32_t nlen = le16(z + off + 28), extra = le16(z + off + 30), comment = le16(z + off + 32);
		assert_true((size_t)off + 46 + nlen <= eocd);
		buf_append(ret, z + off + 46, nlen);
		buf_putc(ret, '\n');
		off += 46 + nlen + extra + comment;
	}
}

static bool has_line(const struct buf *lines, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = lines->p; (p = strstr(p, line)); p += n)
		if ((p == lines->p || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* One member of the zip in zip, read by python3's zipfile. */
static void zip_member(struct fixture *f, const struct buf *zip, const char *name, struct buf *ret)
{
	char *path = xasprintf("%s/book.xlsx", f->dir);
	assert_int_equal(file_write_atomic(path, zip->p, zip->len), 0);
	char *cmd = xasprintf("python3 -c 'import sys, zipfile; "
			      "sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' %s %s",
			      path, name);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char chunk[4096];
	size_t n;
	buf_reset(ret);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		assert_int_equal(buf_append(ret, chunk, n), 0);
	assert_int_equal(pclose(p), 0);
	unlink(path);
	free(cmd);
	free(path);
}

static size_t files_in(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Open descriptors of files in dir (deleted ones too). */
static size_t open_in(const char *dir)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	size_t n = 0, len = strlen(dir);
	for (struct dirent *e; (e = readdir(d));) {
		char link[PATH_MAX], *fd = xasprintf("/proc/self/fd/%s", e->d_name);
		ssize_t k = readlink(fd, link, sizeof(link) - 1);
		free(fd);
		if (k > 0) {
			link[k] = '\0';
			n += !strncmp(link, dir, len) && link[len] == '/';
		}
	}
	closedir(d);
	return n;
}

/* Rows of a sheet's XML: the header and the data. */
static size_t sheet_rows(struct fixture *f, const struct buf *zip, int sheet)
{
	_cleanup_buf_ struct buf xml = BUF_INIT(0);
	char name[64];
	snprintf(name, sizeof(name), "xl/worksheets/sheet%d.xml", sheet);
	zip_member(f, zip, name, &xml);
	return count_of(xml.p, "<row ");
}

/* Data rows of イベント and its continuation sheets (sheet5 on). */
static size_t event_rows(struct fixture *f, const struct buf *zip, int *ret_sheets)
{
	_cleanup_buf_ struct buf names = BUF_INIT(0);
	zip_names(zip, &names);
	size_t n = 0;
	int sheet = 5;
	for (;; sheet++) {
		char name[64];
		snprintf(name, sizeof(name), "xl/worksheets/sheet%d.xml", sheet);
		if (!has_line(&names, name))
			break;
		size_t rows = sheet_rows(f, zip, sheet);
		assert_in_range(rows, 1, XLSX_ROW_MAX);
		n += rows - 1;
	}
	*ret_sheets = sheet - 5;
	return n;
}

/* ---- tests ---- */

static void test_workbook_parts(void **state)
{
	struct fixture *f = *state;
	struct drill d;
	make_drill(f, "2024年度 第1回 訓練", &d);
	struct exclusion x = { true, d.c.exclusion_seconds };
	_cleanup_buf_ struct buf out = BUF_INIT(0), names = BUF_INIT(0), xml = BUF_INIT(0);
	assert_int_equal(report_workbook(f->s, &d.c, f->zone, &x, &out), 0);
	assert_true(out.len > 1000);
	assert_memory_equal(out.p, "PK\x03\x04", 4);
	assert_int_equal(files_in(f->tmp), 0); /* nothing left behind */
	assert_int_equal(open_in(f->tmp), 0);

	zip_names(&out, &names);
	const char *want[] = {
		"[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml", "xl/worksheets/sheet1.xml",
		"xl/worksheets/sheet5.xml", "xl/charts/chart1.xml", "xl/charts/chart2.xml", "xl/charts/chart3.xml",
		"xl/charts/chart4.xml", "xl/drawings/drawing1.xml", "xl/drawings/drawing3.xml",
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_true(has_line(&names, want[i]));
	assert_false(has_line(&names, "xl/charts/chart5.xml"));
	assert_false(has_line(&names, "xl/worksheets/sheet7.xml"));

	/* the sheets, in tab order, the summary the active one */
	zip_member(f, &out, "xl/workbook.xml", &xml);
	const char *s1 = strstr(xml.p, "name=\"サマリー\""), *s2 = strstr(xml.p, "name=\"部署別\""),
		   *s3 = strstr(xml.p, "name=\"役職別\""), *s4 = strstr(xml.p, "name=\"訓練対象者\""),
		   *s5 = strstr(xml.p, "name=\"イベント\"");
	assert_true(s1 && s2 && s3 && s4 && s5);
	assert_true(s1 < s2 && s2 < s3 && s3 < s4 && s4 < s5);
	/* autofilters on the tables */
	assert_non_null(strstr(xml.p, "_xlnm._FilterDatabase"));

	/* the workbook's default font is the Japanese one */
	zip_member(f, &out, "xl/styles.xml", &xml);
	const char *fonts = strstr(xml.p, "<fonts");
	assert_non_null(fonts);
	assert_non_null(strstr(fonts, "<name val=\"Meiryo UI\"/>"));
	assert_null(strstr(xml.p, "Calibri"));

	/* the rate chart shows the reaction rows of the summary */
	zip_member(f, &out, "xl/charts/chart1.xml", &xml);
	assert_non_null(strstr(xml.p, "<c:barChart>"));
	assert_non_null(strstr(xml.p, "サマリー'!$C$15:$C$19"));
	zip_member(f, &out, "xl/charts/chart2.xml", &xml);
	assert_non_null(strstr(xml.p, "<c:doughnutChart>"));
	zip_member(f, &out, "xl/charts/chart3.xml", &xml);
	assert_non_null(strstr(xml.p, "部署別'!$G$2:$G$"));
	assert_non_null(strstr(xml.p, "部署別'!$K$2:$K$"));
}

static void test_cells_are_text_and_counts(void **state)
{
	struct fixture *f = *state;
	struct drill d;
	make_drill(f, "=HYPERLINK(\"http://evil.example/\",\"x\")", &d);
	struct exclusion x = { true, d.c.exclusion_seconds };
	_cleanup_buf_ struct buf out = BUF_INIT(0), xml = BUF_INIT(0);
	assert_int_equal(report_workbook(f->s, &d.c, f->zone, &x, &out), 0);

	/* no formula anywhere; the formula-like names are inline text */
	for (int sheet = 1; sheet <= 5; sheet++) {
		char name[64];
		snprintf(name, sizeof(name), "xl/worksheets/sheet%d.xml", sheet);
		zip_member(f, &out, name, &xml);
		assert_null(strstr(xml.p, "<f>"));
	}
	zip_member(f, &out, "xl/worksheets/sheet1.xml", &xml);
	assert_non_null(strstr(xml.p, "<t>=HYPERLINK(\"http://evil.example/\",\"x\")</t>"));
	/* summary counts: 6 targets, 5 sent, 1 opened, 2 clicked, 1 file, 1 submitted, 1 reported */
	assert_non_null(strstr(xml.p, "<c r=\"B13\" s=\"")); /* 配信件数 */
	assert_non_null(strstr(xml.p, "<v>6</v>"));
	assert_non_null(strstr(xml.p, "<v>0.4</v>"));       /* click rate 2/5 */
	assert_non_null(strstr(xml.p, "<v>0.2</v>"));       /* open rate 1/5 */
	assert_non_null(strstr(xml.p, "ON (配信から 60 秒以内の反応を除外)"));

	/* 訓練対象者 (split: 7 rows a sheet) holds the formula-like person as text */
	_cleanup_buf_ struct buf names = BUF_INIT(0);
	zip_names(&out, &names);
	zip_member(f, &out, "xl/worksheets/sheet4.xml", &xml);
	assert_non_null(strstr(xml.p, "<t>=1+2</t>"));
	assert_non_null(strstr(xml.p, "<t>-3</t>"));
	assert_non_null(strstr(xml.p, "<t>@SUM(A1)</t>"));
	assert_non_null(strstr(xml.p, "<t>+81</t>"));
	assert_non_null(strstr(xml.p, "<t>データ送信</t>"));
	assert_non_null(strstr(xml.p, "<t>送信エラー</t>"));
	assert_non_null(strstr(xml.p, "<pane ySplit=\"1\""));
	assert_non_null(strstr(xml.p, "<autoFilter ref=\"A1:U"));
}

/* Rows per sheet follow the exclusion switch and split past XLSX_ROW_MAX. */
static void test_rows_and_exclusion(void **state)
{
	struct fixture *f = *state;
	struct drill d;
	make_drill(f, "訓練", &d);
	struct exclusion on = { true, d.c.exclusion_seconds }, off = { false, d.c.exclusion_seconds };
	_cleanup_buf_ struct buf out = BUF_INIT(0), csv = BUF_INIT(0), names = BUF_INIT(0);

	/* events counted with exclusion on: created + 5 sent + 1 error + 3 + 1 + 2 = 13 */
	assert_int_equal(report_events_csv(f->s, &d.c, f->zone, &on, CSV_UTF8_BOM, &csv), 0);
	size_t want_events = count_of(csv.p, "\r\n") - 1;
	assert_int_equal(want_events, 13);
	assert_int_equal(report_workbook(f->s, &d.c, f->zone, &on, &out), 0);
	int sheets;
	assert_int_equal(event_rows(f, &out, &sheets), want_events);
	assert_int_equal(sheets, 2);                            /* 7 + 6 rows */
	assert_int_equal(sheet_rows(f, &out, 5), XLSX_ROW_MAX);
	assert_int_equal(sheet_rows(f, &out, 4), 7);            /* header + 6 targets */
	assert_int_equal(sheet_rows(f, &out, 2), 1 + 3);        /* 営業部, 総務部, (未設定) */
	assert_int_equal(sheet_rows(f, &out, 3), 1 + 4);        /* 部長, (未設定), @SUM(A1), 課長 */
	zip_names(&out, &names);
	assert_true(has_line(&names, "xl/worksheets/sheet6.xml")); /* イベント (2) */

	/* exclusion off: t1's open and t4's click count too */
	buf_reset(&out);
	assert_int_equal(report_workbook(f->s, &d.c, f->zone, &off, &out), 0);
	assert_int_equal(event_rows(f, &out, &sheets), want_events + 2);
	assert_int_equal(sheets, 3);
	_cleanup_buf_ struct buf xml = BUF_INIT(0);
	zip_member(f, &out, "xl/worksheets/sheet1.xml", &xml);
	assert_non_null(strstr(xml.p, "メールチェックシステム除外 OFF"));
	assert_non_null(strstr(xml.p, "<v>0.6</v>")); /* click rate 3/5 */
}

/* A draft (no targets yet) still gives a workbook: the summary's two charts. */
static void test_draft(void **state)
{
	struct fixture *f = *state;
	int64_t list = make_list(f), sc = make_scenario(f), id;
	struct campaign c = { .name = "下書き", .scenario_id = sc, .sender_name = "", .sender_local = "it",
			      .sender_domain = "example.co.jp", .list_ids = &list, .nlist_ids = 1 };
	assert_int_equal(store_campaign_create(f->s, f->tenant, &c, &id), 0);
	struct campaign got;
	assert_int_equal(store_campaign_get(f->s, f->tenant, id, f->a, &got), 0);
	_cleanup_buf_ struct buf out = BUF_INIT(0), names = BUF_INIT(0), xml = BUF_INIT(0);
	assert_int_equal(report_workbook(f->s, &got, f->zone, NULL, &out), 0);
	zip_names(&out, &names);
	assert_true(has_line(&names, "xl/charts/chart2.xml"));
	assert_false(has_line(&names, "xl/charts/chart3.xml"));
	assert_int_equal(sheet_rows(f, &out, 4), 1);
	assert_int_equal(sheet_rows(f, &out, 5), 2); /* header + 訓練作成 */
	zip_member(f, &out, "xl/worksheets/sheet1.xml", &xml);
	assert_non_null(strstr(xml.p, "<t>未開始</t>"));
	assert_non_null(strstr(xml.p, "<t>it@example.co.jp</t>"));
}

/* Too large for the caller's cap: -E2BIG, out as it was, no file left. */
static void test_cap_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct drill d;
	make_drill(f, "訓練", &d);
	_cleanup_buf_ struct buf out = BUF_INIT(2000);
	buf_puts(&out, "keep");
	assert_int_equal(report_workbook(f->s, &d.c, f->zone, NULL, &out), -E2BIG);
	assert_string_equal(out.p, "keep");
	assert_int_equal(out.len, 4);
	assert_int_equal(files_in(f->tmp), 0);
	assert_int_equal(open_in(f->tmp), 0);

	/* no usable temporary folder: an error, not a crash */
	char *gone = xasprintf("%s/missing", f->dir);
	setenv("TMPDIR", gone, 1);
	assert_int_equal(report_workbook(f->s, &d.c, f->zone, NULL, &out), -ENOENT);
	assert_string_equal(out.p, "keep");
	setenv("TMPDIR", f->tmp, 1);
	free(gone);
}

/* A workbook abandoned half-written (the error path) frees everything
 * (ASan's leak check) and closes its temporary files. */
static void test_abandoned_workbook(void **state)
{
	struct fixture *f = *state;
	struct drill d;
	make_drill(f, "訓練", &d);
	struct exclusion x = { true, d.c.exclusion_seconds };
	char *path = xasprintf("%s/never.xlsx", f->tmp);
	lxw_workbook_options opt = { .constant_memory = LXW_TRUE, .tmpdir = f->tmp };
	struct xlsx w = { .c = &d.c, .zone = f->zone, .x = &x, .fix = BUF_INIT(0) };
	w.wb = workbook_new_opt(path, &opt);
	assert_non_null(w.wb);
	assert_int_equal(formats_init(&w), 0);
	struct pass p = {
		.x = &w,
		.targets = { "訓練対象者", target_head, target_widths, ARRAY_SIZE(target_head), NULL, 0, 1 },
		.events = { "イベント", event_head, event_widths, ARRAY_SIZE(event_head), NULL, 0, 1 },
	};
	sheet_open(&w, &p.targets);
	sheet_open(&w, &p.events);
	assert_int_equal(write_targets_and_events(&w, f->s, &p), 0);
	assert_int_equal(open_in(f->tmp), 3); /* the sheets' temporary files (イベント in two) */
	workbook_abandon(w.wb);
	buf_release(&w.fix);
	assert_int_equal(open_in(f->tmp), 0);
	assert_int_equal(files_in(f->tmp), 0);
	free(path);
}

/* Text that is not UTF-8 or too long for a cell is repaired, not refused. */
static void test_text_fit(void **state)
{
	struct xlsx x = { .fix = BUF_INIT(0) };
	assert_string_equal(text_fit(&x, "営業部"), "営業部");
	assert_string_equal(text_fit(&x, "a\xff" "b"), "a\xef\xbf\xbd" "b");
	char *big = xmalloc(XLSX_STR_MAX + 10);
	memset(big, 'a', XLSX_STR_MAX + 9);
	memcpy(big + XLSX_STR_MAX - 1, "営", 3); /* straddles the limit */
	big[XLSX_STR_MAX + 9] = '\0';
	const char *fit = text_fit(&x, big);
	assert_int_equal(strlen(fit), XLSX_STR_MAX - 1);
	assert_true(utf8_valid(fit, strlen(fit)));
	free(big);
	buf_release(&x.fix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_workbook_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cells_are_text_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_and_exclusion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_draft, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_workbook, setup, teardown),
		cmocka_unit_test(test_text_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
