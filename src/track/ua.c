/*
 * ua.c — user agents parsed with uap-core's rules (regexes.yaml).
 *
 * The file is read with libyaml's event API (no document tree: the rules
 * are a flat mapping of three sequences of string mappings) and every rule
 * is compiled once with PCRE2, JIT-compiled when the platform allows.  The
 * rules are written for Python's re module; translate() handles what
 * PCRE2 reads differently.  A rule PCRE2 refuses is skipped and counted,
 * never fatal: one bad rule in a newer uap-core must not stop the tracker.
 *
 * Semantics follow uap-core's docs/specification.md and its reference
 * implementation (uap-ref-impl, which runs the project's own tests): the
 * first rule that matches wins; a replacement has $1..$9 substituted (a
 * group that did not take part gives ""), is trimmed, and "" means absent;
 * without a replacement a field is its group (user agent and OS: family,
 * major, minor, patch, patch minor are groups 1..5; device: family and
 * model are group 1, brand is absent).  No match, or an empty family, is
 * "Other".
 *
 * ua_describe() keeps its recent answers in a 4-way set-associative table
 * keyed by a seeded hash of the user agent, one lock per set (held for a
 * compare and a copy, never for a parse); a slot holds the full user
 * agent, so a collision costs a parse, never a wrong answer.  See
 * docs/internals/TRACK.md, "User agents", for the measured costs.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <yaml.h>

#include "track/ua.h"

#define UA_MAX_LEN 512          /* longest user agent looked at, as the tracker keeps it */
#define UA_MAX_FILE (16 << 20)  /* regexes.yaml is ~300 KiB today */
#define UA_MAX_RULES 100000
#define UA_MAX_REGEX 65536
#define UA_FIELDS 5             /* family and up to four version parts */
#define UA_GROUPS 10            /* $0..$9 */
#define UA_CACHE_SETS 512       /* a power of two */
#define UA_CACHE_WAYS 4         /* 2,048 answers, ~1.7 MiB */
#define UA_DESC_LEN 136         /* "family major.minor", cut on a character if longer */

/*
 * Per match, a bound on backtracking: a hostile 512-byte user agent
 * against 1,200 rules written without possessive forms must not pin a
 * worker.  uap-core's own test agents stay far below (TRACK.md); a rule
 * that hits a limit counts as not matching.
 */
#define UA_MATCH_LIMIT 200000
#define UA_DEPTH_LIMIT 2000

enum ua_section { UA_SEC_UA, UA_SEC_OS, UA_SEC_DEVICE, UA_SECTIONS };

static const char *const section_names[UA_SECTIONS] = {
	"user_agent_parsers", "os_parsers", "device_parsers",
};

/* The replacement keys of each section, by field. */
static const char *const repl_keys[UA_SECTIONS][UA_FIELDS] = {
	{ "family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", "v4_replacement" },
	{ "os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement", "os_v4_replacement" },
	{ "device_replacement", "brand_replacement", "model_replacement", NULL, NULL },
};

/* The group a field takes when its rule has no replacement (0: absent). */
static const int default_group[UA_SECTIONS][UA_FIELDS] = {
	{ 1, 2, 3, 4, 5 },
	{ 1, 2, 3, 4, 5 },
	{ 1, 0, 1, 0, 0 },
};

struct ua_rule {
	pcre2_code *re;
	char *repl[UA_FIELDS];  /* NULL: the field's default group */
};

struct ua_rules {
	struct ua_rule *v;
	size_t n, cap;
};

enum ua_class { UA_CLASS_PC, UA_CLASS_SMARTPHONE, UA_CLASS_TABLET, UA_CLASS_BOT };
static const char *const class_names[] = { "pc", "smartphone", "tablet", "bot" };

/* An answer of ua_describe, as the cache keeps it ("" for NULL). */
struct ua_desc {
	char os[UA_DESC_LEN], browser[UA_DESC_LEN];
	enum ua_class cls;
	bool known;    /* false: a NULL or empty user agent, all fields NULL */
};

struct ua_slot {
	uint64_t hash;
	uint16_t len;
	bool used;
	char ua[UA_MAX_LEN];
	struct ua_desc d;
};

struct ua_set {
	pthread_mutex_t lock;
	unsigned next;          /* the way replaced next when all are used (FIFO) */
	struct ua_slot way[UA_CACHE_WAYS];
};

struct ua_parser {
	struct ua_rules rules[UA_SECTIONS];
	pcre2_match_context *mctx;
	struct ua_stats stats;
	struct buf failures;       /* one line per rule PCRE2 refused */
	uint64_t seed;
	struct ua_set *cache;
	atomic_uint_fast64_t hits, misses, limit_hits;
};

/* ---- loading ------------------------------------------------------------- */

/*
 * Python re and PCRE2 agree on everything uap-core uses except \Z, which
 * is Python's end of subject (PCRE2's \z; PCRE2's \Z also matches before
 * a final newline).  Everything else is passed through: an escape PCRE2
 * does not know is an error, counted as a failed rule.
 */
static char *translate(const char *re)
{
	size_t n = strlen(re);
	char *out = xmalloc(st_add(n, 1));
	size_t o = 0;
	bool in_class = false;
	for (size_t i = 0; i < n; i++) {
		char c = re[i];
		if (c == '\\' && i + 1 < n) {
			char e = re[++i];
			out[o++] = '\\';
			out[o++] = (e == 'Z' && !in_class) ? 'z' : e;
			continue;
		}
		if (c == '[' && !in_class) {
			in_class = true;
			out[o++] = c;
			/* a ] right after [ or [^ is a member, not the end */
			if (i + 1 < n && re[i + 1] == '^')
				out[o++] = re[++i];
			if (i + 1 < n && re[i + 1] == ']')
				out[o++] = re[++i];
			continue;
		}
		if (c == ']' && in_class)
			in_class = false;
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

static void rule_release(struct ua_rule *r)
{
	pcre2_code_free(r->re);
	for (size_t k = 0; k < UA_FIELDS; k++)
		free(r->repl[k]);
}

/* One rule as read from the file, before compiling. */
struct rule_text {
	char *regex, *flag;
	char *repl[UA_FIELDS];
	unsigned line;
};

static void rule_text_release(struct rule_text *t)
{
	free(t->regex);
	free(t->flag);
	for (size_t k = 0; k < UA_FIELDS; k++)
		free(t->repl[k]);
	memset(t, 0, sizeof(*t));
}

static void add_rule(struct ua_parser *p, enum ua_section sec, struct rule_text *t)
{
	uint32_t opts = 0;
	if (t->flag && strchr(t->flag, 'i'))
		opts |= PCRE2_CASELESS;
	_cleanup_free_ char *pat = translate(t->regex);
	int err;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &err, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(err, msg, sizeof(msg));
		p->stats.failed++;
		buf_printf(&p->failures, "line %u: %s at offset %zu\n", t->line, (const char *)msg, (size_t)off);
		return;
	}
	/* Without JIT (an unsupported CPU, or W^X memory) the interpreter runs. */
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);

	struct ua_rules *rs = &p->rules[sec];
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? st_mult(rs->cap, 2) : 256;
		rs->v = xrealloc(rs->v, st_mult(rs->cap, sizeof(*rs->v)));
	}
	struct ua_rule *r = &rs->v[rs->n++];
	r->re = re;
	for (size_t k = 0; k < UA_FIELDS; k++) {
		r->repl[k] = t->repl[k];
		t->repl[k] = NULL;
	}
}

/* Sets a key of the rule being read; unknown keys are ignored (newer files). */
static int rule_set(struct rule_text *t, enum ua_section sec, const char *key, const char *value)
{
	char **slot = NULL;
	if (!strcmp(key, "regex"))
		slot = &t->regex;
	else if (!strcmp(key, "regex_flag"))
		slot = &t->flag;
	else
		for (size_t k = 0; k < UA_FIELDS; k++)
			if (repl_keys[sec][k] && !strcmp(key, repl_keys[sec][k]))
				slot = &t->repl[k];
	if (!slot)
		return 0;
	if (*slot)
		return -EEXIST;
	if (strlen(value) > UA_MAX_REGEX)
		return -E2BIG;
	*slot = xstrdup(value);
	return 0;
}

struct yreader {
	yaml_parser_t y;
	yaml_event_t ev;
	bool have;        /* ev holds an event to delete */
	char **ret_err;
	const char *name; /* the file, for messages */
};

static int ynext(struct yreader *r)
{
	if (r->have)
		yaml_event_delete(&r->ev);
	r->have = false;
	if (!yaml_parser_parse(&r->y, &r->ev)) {
		*r->ret_err = xasprintf("%s:%zu: %s", r->name, (size_t)r->y.problem_mark.line + 1,
					r->y.problem ? r->y.problem : "YAML syntax error");
		return -EINVAL;
	}
	r->have = true;
	return 0;
}

static int yfail(struct yreader *r, const char *what)
{
	*r->ret_err = xasprintf("%s:%zu: %s", r->name, (size_t)r->ev.start_mark.line + 1, what);
	return -EINVAL;
}

static int yexpect(struct yreader *r, yaml_event_type_t type, const char *what)
{
	int ret = ynext(r);
	if (ret < 0)
		return ret;
	return r->ev.type == type ? 0 : yfail(r, what);
}

/* Skips the node whose first event is r->ev (a section Kunren does not use). */
static int yskip(struct yreader *r)
{
	int depth = 0;
	for (;;) {
		switch (r->ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			break;
		default:
			return yfail(r, "unexpected end of the document");
		}
		if (depth <= 0)
			return 0;
		int ret = ynext(r);
		if (ret < 0)
			return ret;
		if (depth > 64)
			return yfail(r, "nested too deeply");
	}
}

/* A sequence of mappings of strings: one rule each. */
static int read_section(struct ua_parser *p, struct yreader *r, enum ua_section sec)
{
	int ret = yexpect(r, YAML_SEQUENCE_START_EVENT, "expected a list of rules");
	if (ret < 0)
		return ret;
	for (;;) {
		if ((ret = ynext(r)) < 0)
			return ret;
		if (r->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (r->ev.type != YAML_MAPPING_START_EVENT)
			return yfail(r, "expected a rule (regex: ...)");
		struct rule_text t = { .line = (unsigned)r->ev.start_mark.line + 1 };
		for (;;) {
			if ((ret = ynext(r)) < 0)
				goto fail;
			if (r->ev.type == YAML_MAPPING_END_EVENT)
				break;
			if (r->ev.type != YAML_SCALAR_EVENT) {
				ret = yfail(r, "expected a key of the rule");
				goto fail;
			}
			_cleanup_free_ char *key = xstrdup((const char *)r->ev.data.scalar.value);
			if ((ret = ynext(r)) < 0)
				goto fail;
			if (r->ev.type != YAML_SCALAR_EVENT) {
				ret = yfail(r, "expected a string value");
				goto fail;
			}
			ret = rule_set(&t, sec, key, (const char *)r->ev.data.scalar.value);
			if (ret < 0) {
				_cleanup_free_ char *msg = xasprintf(ret == -EEXIST ? "%s given twice" : "%s too long",
								     key);
				ret = yfail(r, msg);
				goto fail;
			}
		}
		if (!t.regex) {
			*r->ret_err = xasprintf("%s:%u: a rule without regex", r->name, t.line);
			ret = -EINVAL;
			goto fail;
		}
		if (p->stats.rules[0] + p->stats.rules[1] + p->stats.rules[2] + p->stats.failed >= UA_MAX_RULES) {
			ret = yfail(r, "too many rules");
			goto fail;
		}
		add_rule(p, sec, &t);
		p->stats.rules[sec] = p->rules[sec].n;
		rule_text_release(&t);
		continue;
fail:
		rule_text_release(&t);
		return ret;
	}
}

static int read_rules(struct ua_parser *p, const char *name, const char *text, size_t len, char **ret_err)
{
	struct yreader r = { .ret_err = ret_err, .name = name };
	bool seen[UA_SECTIONS] = { false };
	int ret;

	if (!yaml_parser_initialize(&r.y)) {
		*ret_err = xstrdup("out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&r.y, (const unsigned char *)text, len);
	if ((ret = yexpect(&r, YAML_STREAM_START_EVENT, "expected a YAML stream")) < 0 ||
	    (ret = yexpect(&r, YAML_DOCUMENT_START_EVENT, "expected a document")) < 0 ||
	    (ret = yexpect(&r, YAML_MAPPING_START_EVENT, "expected user_agent_parsers:, os_parsers:, device_parsers:")) < 0)
		goto out;
	for (;;) {
		if ((ret = ynext(&r)) < 0)
			goto out;
		if (r.ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (r.ev.type != YAML_SCALAR_EVENT) {
			ret = yfail(&r, "expected a section name");
			goto out;
		}
		int sec = -1;
		for (int i = 0; i < UA_SECTIONS; i++)
			if (!strcmp((const char *)r.ev.data.scalar.value, section_names[i]))
				sec = i;
		if (sec < 0) {
			if ((ret = ynext(&r)) < 0 || (ret = yskip(&r)) < 0)
				goto out;
			continue;
		}
		if (seen[sec]) {
			ret = yfail(&r, "section given twice");
			goto out;
		}
		seen[sec] = true;
		if ((ret = read_section(p, &r, sec)) < 0)
			goto out;
	}
	for (int i = 0; i < UA_SECTIONS; i++)
		if (!seen[i]) {
			*ret_err = xasprintf("%s: no %s section", name, section_names[i]);
			ret = -EINVAL;
			goto out;
		}
	ret = 0;
out:
	if (r.have)
		yaml_event_delete(&r.ev);
	yaml_parser_delete(&r.y);
	return ret;
}

struct ua_parser *ua__parser_from_text(const char *name, const char *text, size_t len, char **ret_err)
{
	struct ua_parser *p = xcalloc(1, sizeof(*p));
	buf_init(&p->failures, 1 << 20);
	p->mctx = pcre2_match_context_create(NULL);
	if (!p->mctx) {
		ua_parser_free(p);
		*ret_err = xstrdup("out of memory");
		return NULL;
	}
	pcre2_set_match_limit(p->mctx, UA_MATCH_LIMIT);
	pcre2_set_depth_limit(p->mctx, UA_DEPTH_LIMIT);
	if (read_rules(p, name, text, len, ret_err) < 0) {
		ua_parser_free(p);
		return NULL;
	}
	random_bytes(&p->seed, sizeof(p->seed));
	p->cache = xcalloc(UA_CACHE_SETS, sizeof(*p->cache));
	for (size_t i = 0; i < UA_CACHE_SETS; i++)
		pthread_mutex_init(&p->cache[i].lock, NULL);
	return p;
}

struct ua_parser *ua_parser_new(const char *regexes_yaml, char **ret_err)
{
	_cleanup_buf_ struct buf text = BUF_INIT(UA_MAX_FILE);
	int r = file_read(regexes_yaml, UA_MAX_FILE, &text);
	if (r < 0) {
		*ret_err = xasprintf("%s: %s", regexes_yaml, strerror(-r));
		return NULL;
	}
	return ua__parser_from_text(regexes_yaml, text.p, text.len, ret_err);
}

void ua_parser_free(struct ua_parser *p)
{
	if (!p)
		return;
	for (int s = 0; s < UA_SECTIONS; s++) {
		for (size_t i = 0; i < p->rules[s].n; i++)
			rule_release(&p->rules[s].v[i]);
		free(p->rules[s].v);
	}
	if (p->cache) {
		for (size_t i = 0; i < UA_CACHE_SETS; i++)
			pthread_mutex_destroy(&p->cache[i].lock);
		free(p->cache);
	}
	pcre2_match_context_free(p->mctx);
	buf_release(&p->failures);
	free(p);
}

void ua_parser_stats(struct ua_parser *p, struct ua_stats *ret)
{
	*ret = p->stats;
	ret->cache_hits = atomic_load(&p->hits);
	ret->cache_misses = atomic_load(&p->misses);
	ret->limit_hits = atomic_load(&p->limit_hits);
	ret->failures = p->failures.p;
}

/* ---- matching -------------------------------------------------------------- */

/* The cut a user agent gets: at most UA_MAX_LEN bytes, not inside a UTF-8
 * sequence (so what a group copies stays whole characters). */
static size_t ua_cut(const char *ua)
{
	size_t n = strnlen(ua, UA_MAX_LEN + 1);
	if (n <= UA_MAX_LEN)
		return n;
	n = UA_MAX_LEN;
	while (n > 0 && ((unsigned char)ua[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Copies at most size-1 bytes, backing off to a UTF-8 sequence start. */
static void copy_field(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

struct match {
	const char *subject;
	PCRE2_SIZE *ov;
	int rc;        /* pcre2_match: pairs set, 0 when the ovector was too small */
	uint32_t groups;
};

/* Group g of the match, or false when it did not take part. */
static bool group(const struct match *m, int g, struct slice *ret)
{
	if (g <= 0 || (uint32_t)g > m->groups || (m->rc > 0 && g >= m->rc))
		return false;
	if (m->ov[2 * g] == PCRE2_UNSET)
		return false;
	*ret = (struct slice){ m->subject + m->ov[2 * g], m->ov[2 * g + 1] - m->ov[2 * g] };
	return true;
}

static void field(const struct match *m, const char *repl, int def, char *dst, size_t size)
{
	struct slice s;
	if (!repl) {
		if (group(m, def, &s))
			copy_field(dst, size, s.p, s.len);
		else
			dst[0] = '\0';
		return;
	}
	/* $1..$9 substituted, then trimmed; the result is at most UA_MAX_LEN
	 * per group, times nine, plus the replacement */
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	for (const char *c = repl; *c; c++) {
		if (c[0] == '$' && c[1] >= '1' && c[1] <= '9') {
			if (group(m, c[1] - '0', &s))
				buf_put_slice(&b, s);
			c++;
		} else {
			buf_putc(&b, *c);
		}
	}
	s = slice_trim(buf_slice(&b));
	copy_field(dst, size, s.p, s.len);
}

/* The first rule of a section that matches; false for none. */
static bool section_match(struct ua_parser *p, enum ua_section sec, const char *ua, size_t len,
			  pcre2_match_data *md, struct match *ret_m, const struct ua_rule **ret_rule)
{
	const struct ua_rules *rs = &p->rules[sec];
	for (size_t i = 0; i < rs->n; i++) {
		int rc = pcre2_match(rs->v[i].re, (PCRE2_SPTR)ua, len, 0, 0, md, p->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0) {
			/* a limit (or the JIT stack) ran out: this rule does not match */
			atomic_fetch_add(&p->limit_hits, 1);
			continue;
		}
		uint32_t groups = 0;
		pcre2_pattern_info(rs->v[i].re, PCRE2_INFO_CAPTURECOUNT, &groups);
		*ret_m = (struct match){ ua, pcre2_get_ovector_pointer(md), rc, groups };
		*ret_rule = &rs->v[i];
		return true;
	}
	return false;
}

/* Every family field holds more than "Other". */
static void set_other(char *family)
{
	memcpy(family, "Other", sizeof("Other"));
}

void ua_parse(struct ua_parser *p, const char *ua, struct ua_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	set_other(ret->ua_family);
	set_other(ret->os_family);
	set_other(ret->device_family);
	if (!p || !ua)
		return;
	size_t len = ua_cut(ua);
	pcre2_match_data *md = pcre2_match_data_create(UA_GROUPS, NULL);
	if (!md)
		return;
	struct match m;
	const struct ua_rule *r;

	if (section_match(p, UA_SEC_UA, ua, len, md, &m, &r)) {
		char *f[] = { ret->ua_family, ret->ua_major, ret->ua_minor, ret->ua_patch };
		size_t sz[] = { sizeof(ret->ua_family), sizeof(ret->ua_major), sizeof(ret->ua_minor),
				sizeof(ret->ua_patch) };
		for (size_t k = 0; k < ARRAY_SIZE(f); k++)
			field(&m, r->repl[k], default_group[UA_SEC_UA][k], f[k], sz[k]);
	}
	if (section_match(p, UA_SEC_OS, ua, len, md, &m, &r)) {
		char *f[] = { ret->os_family, ret->os_major, ret->os_minor, ret->os_patch, ret->os_patch_minor };
		size_t sz[] = { sizeof(ret->os_family), sizeof(ret->os_major), sizeof(ret->os_minor),
				sizeof(ret->os_patch), sizeof(ret->os_patch_minor) };
		for (size_t k = 0; k < ARRAY_SIZE(f); k++)
			field(&m, r->repl[k], default_group[UA_SEC_OS][k], f[k], sz[k]);
	}
	if (section_match(p, UA_SEC_DEVICE, ua, len, md, &m, &r)) {
		char *f[] = { ret->device_family, ret->device_brand, ret->device_model };
		size_t sz[] = { sizeof(ret->device_family), sizeof(ret->device_brand), sizeof(ret->device_model) };
		for (size_t k = 0; k < ARRAY_SIZE(f); k++)
			field(&m, r->repl[k], default_group[UA_SEC_DEVICE][k], f[k], sz[k]);
	}
	pcre2_match_data_free(md);

	/* an empty family (a group that matched nothing) is no answer */
	if (!ret->ua_family[0])
		set_other(ret->ua_family);
	if (!ret->os_family[0])
		set_other(ret->os_family);
	if (!ret->device_family[0])
		set_other(ret->device_family);
}

/* ---- describing ------------------------------------------------------------ */

/* "Chrome 120.0", "Windows 10", "Other" families give "". */
static void put_name(char *dst, size_t size, const char *family, const char *major, const char *minor)
{
	dst[0] = '\0';
	if (!strcmp(family, "Other"))
		return;
	_cleanup_buf_ struct buf b = BUF_INIT(0);
	buf_puts(&b, family);
	if (major[0]) {
		buf_printf(&b, " %s", major);
		if (minor[0])
			buf_printf(&b, ".%s", minor);
	}
	copy_field(dst, size, b.p, b.len);
	if (!utf8_valid(dst, strlen(dst)))
		dst[0] = '\0';
}

static bool family_is(const char *family, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(family, list[i]))
			return true;
	return false;
}

/*
 * Agents no person reads mail or browses with, beyond uap-core's "Spider"
 * device (which already covers crawlers, link previewers such as WhatsApp
 * and facebookexternalhit, Java and WinHTTP): command-line and library
 * HTTP clients and headless browsers, as uap-core names their families.
 * Mail clients and Office (an attachment's linked image is fetched by
 * Word or Excel when a person opens the file) are deliberately absent.
 */
static const char *const bot_families[] = {
	"curl", "Wget", "Python Requests", "Python-urllib", "Go-http-client", "Apache-HttpClient",
	"libwww-perl", "okhttp", "HeadlessChrome", "PhantomJS", "Scrapy", "aiohttp", "axios",
	"node-fetch", "HTTPie", "PowerShell",
};

/* Substrings for the same kind of agents uap-core leaves as "Other". */
static const char *const bot_marks[] = {
	"HeadlessChrome", "PhantomJS", "python-requests", "python-httpx", "aiohttp", "Go-http-client",
	"node-fetch", "axios/", "WindowsPowerShell", "libcurl", "Apache-HttpClient", "okhttp/",
};

static const char *const tablet_families[] = {
	"iPad", "Kindle", "Kindle Fire", "Generic Tablet", "Nexus 7", "Nexus 9", "Nexus 10",
};

static enum ua_class classify(const struct ua_result *r, const char *ua)
{
	if (!strcmp(r->device_family, "Spider") || family_is(r->ua_family, bot_families, ARRAY_SIZE(bot_families)))
		return UA_CLASS_BOT;
	for (size_t i = 0; i < ARRAY_SIZE(bot_marks); i++)
		if (strstr(ua, bot_marks[i]))
			return UA_CLASS_BOT;
	if (family_is(r->device_family, tablet_families, ARRAY_SIZE(tablet_families)) ||
	    !strcmp(r->os_family, "iPadOS") || strstr(ua, "Tablet") || strstr(ua, "iPad") ||
	    strstr(ua, "Kindle") || strstr(ua, "Silk/"))
		return UA_CLASS_TABLET;
	/* Android phones say "Mobile"; an Android browser without it is a
	 * tablet (Google's guidance for Chrome, followed by the others) */
	if (!strcmp(r->os_family, "Android") && !strstr(ua, "Mobile"))
		return UA_CLASS_TABLET;
	if (!strcmp(r->os_family, "Android") || !strcmp(r->os_family, "iOS") ||
	    !strcmp(r->device_family, "iPhone") || !strcmp(r->device_family, "iPod") ||
	    !strcmp(r->device_family, "Generic Smartphone") || !strcmp(r->device_family, "Generic Feature Phone") ||
	    !strcmp(r->os_family, "Windows Phone") || !strcmp(r->os_family, "BlackBerry OS") ||
	    !strcmp(r->os_family, "KaiOS") || strstr(ua, "Mobile"))
		return UA_CLASS_SMARTPHONE;
	return UA_CLASS_PC;
}

static void describe(struct ua_parser *p, const char *ua, size_t len, struct ua_desc *ret)
{
	char cut[UA_MAX_LEN + 1];
	memcpy(cut, ua, len);
	cut[len] = '\0';
	struct ua_result r;
	ua_parse(p, cut, &r);
	put_name(ret->os, sizeof(ret->os), r.os_family, r.os_major, r.os_minor);
	put_name(ret->browser, sizeof(ret->browser), r.ua_family, r.ua_major, r.ua_minor);
	ret->cls = classify(&r, cut);
	ret->known = true;
}

/* A seeded FNV-1a: the seed keeps an outsider from choosing agents that
 * evict each other (which would only cost parses, but still). */
static uint64_t ua_hash(uint64_t seed, const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

static void fill(struct arena *a, const struct ua_desc *d, struct ua_info *ret)
{
	*ret = (struct ua_info){ 0 };
	if (!d->known)
		return;
	ret->os = d->os[0] ? arena_strdup(a, d->os) : NULL;
	ret->browser = d->browser[0] ? arena_strdup(a, d->browser) : NULL;
	ret->device = class_names[d->cls];
	ret->bot = d->cls == UA_CLASS_BOT;
}

/* The way of set that holds ua, or NULL; called with the set's lock. */
static struct ua_slot *set_find(struct ua_set *set, uint64_t h, const char *ua, size_t len)
{
	for (size_t w = 0; w < UA_CACHE_WAYS; w++) {
		struct ua_slot *s = &set->way[w];
		if (s->used && s->hash == h && s->len == len && !memcmp(s->ua, ua, len))
			return s;
	}
	return NULL;
}

void ua_describe(struct ua_parser *p, const char *ua, struct arena *a, struct ua_info *ret)
{
	*ret = (struct ua_info){ 0 };
	if (!p || !ua || !ua[0])
		return;
	size_t len = ua_cut(ua);
	uint64_t h = ua_hash(p->seed, ua, len);
	struct ua_set *set = &p->cache[h & (UA_CACHE_SETS - 1)];
	struct ua_desc d;

	pthread_mutex_lock(&set->lock);
	struct ua_slot *s = set_find(set, h, ua, len);
	if (s)
		d = s->d;
	pthread_mutex_unlock(&set->lock);
	if (s) {
		atomic_fetch_add(&p->hits, 1);
		fill(a, &d, ret);
		return;
	}

	atomic_fetch_add(&p->misses, 1);
	describe(p, ua, len, &d);
	pthread_mutex_lock(&set->lock);
	if (!set_find(set, h, ua, len)) { /* another thread may have been quicker */
		s = NULL;
		for (size_t w = 0; w < UA_CACHE_WAYS && !s; w++)
			if (!set->way[w].used)
				s = &set->way[w];
		if (!s)
			s = &set->way[set->next++ % UA_CACHE_WAYS];
		s->used = true;
		s->hash = h;
		s->len = (uint16_t)len;
		memcpy(s->ua, ua, len);
		s->d = d;
	}
	pthread_mutex_unlock(&set->lock);
	fill(a, &d, ret);
}
