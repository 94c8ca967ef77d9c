/*
 * imap.c — reading a report mailbox (SPEC F1 報告): a small IMAP client on
 * one reused libcurl easy handle (libcurl keeps the connection open between
 * commands), and the finder of drill-mail rids in a reported mail.
 *
 * The finder never trusts the mail: it walks at most REPORT_MAX_PARTS MIME
 * parts REPORT_MAX_DEPTH deep (multipart and attached message/rfc822 alike),
 * decodes base64 and quoted-printable bodies into capped buffers, and looks
 * for this tracker's own URLs (/c/<rid>, /o/<rid>.gif, /r/<rid>, /e/<rid>,
 * also percent-encoded as link-rewriting mail filters do).  A rid is only a
 * candidate: the caller still asks the store whether it is a target's.
 */
#include "mail/mail.h"
#include "core/net.h"

#include <pthread.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <curl/curl.h>

#define REPORT_MAX_RAW ((size_t)64 << 20)
#define REPORT_MAX_PARTS 200
#define REPORT_MAX_DEPTH 8
#define IMAP_MAX_MESSAGE ((size_t)32 << 20)
#define IMAP_MAX_LIST ((size_t)4 << 20)   /* a SEARCH answer: ~ 500,000 UIDs */
#define IMAP_TIMEOUT_DEFAULT 60L

/* ---- the rid finder ---- */

struct scan {
	struct arena *a;
	struct slice needle;  /* tracker host and base path, e.g. "track.example.com/t" */
	struct mail_report *out;
	int parts;
};

static bool is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool starts_nocase(const char *p, size_t left, const char *s)
{
	size_t n = strlen(s);
	if (left < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != lower(s[i]))
			return false;
	return true;
}

/* "/" or its percent-encoded form: its length, else 0. */
static size_t sep_len(const char *p, size_t left)
{
	if (left >= 1 && p[0] == '/')
		return 1;
	return starts_nocase(p, left, "%2f") ? 3 : 0;
}

static void rid_add(struct scan *s, const char *rid)
{
	struct mail_report *m = s->out;
	for (size_t i = 0; i < m->nrids; i++)
		if (!memcmp(m->rids[i], rid, MAIL_REPORT_RID_LEN))
			return;
	if (m->nrids >= MAIL_REPORT_MAX_RIDS)
		return;
	const char *copy = arena_strndup(s->a, rid, MAIL_REPORT_RID_LEN);
	if (copy)
		m->rids[m->nrids++] = copy;
}

/* Every "<needle>/<c|o|r|e>/<rid>" in text (the needle matched without case). */
static void text_scan(struct scan *s, struct slice text)
{
	struct slice nd = s->needle;
	if (!nd.len || text.len < nd.len)
		return;
	for (size_t i = 0; i + nd.len <= text.len; i++) {
		if (lower(text.p[i]) != lower(nd.p[0]))
			continue;
		/* nor start inside another name ("eviltrack.example.com") */
		if (i && (is_alnum(text.p[i - 1]) || text.p[i - 1] == '.' || text.p[i - 1] == '-') &&
		    !(i >= 3 && starts_nocase(text.p + i - 3, 3, "%2f")))
			continue;
		size_t k = 0;
		while (k < nd.len && lower(text.p[i + k]) == lower(nd.p[k]))
			k++;
		if (k < nd.len)
			continue;
		/* the host must not run on ("track.example.com.evil") */
		const char *p = text.p + i + k;
		size_t left = text.len - i - k, n = sep_len(p, left);
		if (!n || left < n + 1)
			continue;
		p += n;
		left -= n;
		char kind = p[0];
		if (kind != 'c' && kind != 'o' && kind != 'r' && kind != 'e')
			continue;
		p++;
		left--;
		if (!(n = sep_len(p, left)))
			continue;
		p += n;
		left -= n;
		size_t r = 0;
		while (r < left && r <= MAIL_REPORT_RID_LEN && is_alnum(p[r]))
			r++;
		if (r == MAIL_REPORT_RID_LEN)
			rid_add(s, p);
	}
}

/* Lines of an entity: the head ends at the first empty line. */
static void entity_split(struct slice e, struct slice *ret_head, struct slice *ret_body)
{
	for (size_t i = 0; i < e.len; i++) {
		if (e.p[i] != '\n')
			continue;
		size_t j = i + 1;
		if (j < e.len && e.p[j] == '\r')
			j++;
		if (j < e.len && e.p[j] == '\n') {
			*ret_head = (struct slice){ e.p, i + 1 };
			*ret_body = (struct slice){ e.p + j + 1, e.len - j - 1 };
			return;
		}
		if (j >= e.len) {
			*ret_head = e;
			*ret_body = (struct slice){ e.p + e.len, 0 };
			return;
		}
	}
	*ret_head = e;
	*ret_body = (struct slice){ e.p + e.len, 0 };
}

/* The value of header `name` (first occurrence, folded lines included,
 * line breaks kept). */
static bool header_find(struct slice head, const char *name, struct slice *ret)
{
	size_t n = strlen(name);
	for (size_t at = 0; at < head.len;) {
		size_t end = at;
		while (end < head.len && head.p[end] != '\n')
			end++;
		/* continuation lines belong to the header before */
		while (end + 1 < head.len && (head.p[end + 1] == ' ' || head.p[end + 1] == '\t')) {
			end++;
			while (end < head.len && head.p[end] != '\n')
				end++;
		}
		if (end - at > n && head.p[at + n] == ':' && !strncasecmp(head.p + at, name, n)) {
			*ret = (struct slice){ head.p + at + n + 1, end - at - n - 1 };
			return true;
		}
		at = end + 1;
	}
	return false;
}

struct ctype {
	char type[32], subtype[64], boundary[201];
	enum { ENC_IDENTITY, ENC_BASE64, ENC_QP } enc;
};

static void token_copy(char *dst, size_t size, struct slice *v, bool lower_case, const char *stop)
{
	while (v->len && (v->p[0] == ' ' || v->p[0] == '\t' || v->p[0] == '\r' || v->p[0] == '\n')) {
		v->p++;
		v->len--;
	}
	size_t n = 0;
	while (v->len && !strchr(stop, v->p[0]) && v->p[0] > ' ') {
		if (n + 1 < size)
			dst[n++] = lower_case ? lower(v->p[0]) : v->p[0];
		v->p++;
		v->len--;
	}
	dst[n] = '\0';
}

static void ctype_parse(struct slice head, struct ctype *c)
{
	struct slice v;
	*c = (struct ctype){ .enc = ENC_IDENTITY };
	if (header_find(head, "Content-Type", &v)) {
		token_copy(c->type, sizeof(c->type), &v, true, "/;");
		if (v.len && v.p[0] == '/') {
			v.p++;
			v.len--;
			token_copy(c->subtype, sizeof(c->subtype), &v, true, ";");
		}
		/* boundary="..." or boundary=token, anywhere in the parameters */
		for (size_t i = 0; i + 9 <= v.len; i++) {
			if (strncasecmp(v.p + i, "boundary=", 9) || (i && is_alnum(v.p[i - 1])))
				continue;
			struct slice b = { v.p + i + 9, v.len - i - 9 };
			if (b.len && b.p[0] == '"') {
				size_t n = 0;
				for (size_t j = 1; j < b.len && b.p[j] != '"' && b.p[j] != '\n'; j++)
					if (n + 1 < sizeof(c->boundary))
						c->boundary[n++] = b.p[j];
				c->boundary[n] = '\0';
			} else {
				token_copy(c->boundary, sizeof(c->boundary), &b, false, ";\"");
			}
			break;
		}
	}
	if (!c->type[0] || !c->subtype[0]) {
		memcpy(c->type, "text", 5);
		memcpy(c->subtype, "plain", 6);
	}
	if (header_find(head, "Content-Transfer-Encoding", &v)) {
		char enc[32];
		token_copy(enc, sizeof(enc), &v, true, ";");
		c->enc = !strcmp(enc, "base64") ? ENC_BASE64 : !strcmp(enc, "quoted-printable") ? ENC_QP : ENC_IDENTITY;
	}
}

static void entity_scan(struct scan *s, struct slice e, int depth);

static void body_decode(const struct ctype *c, struct slice body, struct buf *out)
{
	int r = c->enc == ENC_BASE64 ? mail_base64_decode_loose(out, body)
		: c->enc == ENC_QP   ? mail_qp_decode(out, body)
				     : buf_put_slice(out, body);
	if (r < 0)
		buf_reset(out); /* undecodable: the raw text was scanned already */
}

/* The next line starting with "--boundary" at or after `from` (line starts
 * only); *ret_next is where the line after it starts. */
static bool delimiter_find(struct slice body, size_t from, const char *delim, size_t dlen, size_t *ret_line,
			   size_t *ret_next, bool *ret_close)
{
	for (size_t at = from; at < body.len;) {
		size_t end = at;
		while (end < body.len && body.p[end] != '\n')
			end++;
		if (end - at >= dlen && !memcmp(body.p + at, delim, dlen)) {
			*ret_line = at;
			*ret_next = end < body.len ? end + 1 : end;
			*ret_close = end - at >= dlen + 2 && body.p[at + dlen] == '-' && body.p[at + dlen + 1] == '-';
			return true;
		}
		at = end + 1;
	}
	return false;
}

static void multipart_scan(struct scan *s, const struct ctype *c, struct slice body, int depth)
{
	char delim[sizeof(c->boundary) + 2];
	size_t dlen = (size_t)snprintf(delim, sizeof(delim), "--%s", c->boundary), line, next;
	bool close;
	if (!c->boundary[0] || !delimiter_find(body, 0, delim, dlen, &line, &next, &close))
		return;
	while (!close && s->parts < REPORT_MAX_PARTS) {
		size_t start = next, end = body.len;
		if (delimiter_find(body, start, delim, dlen, &line, &next, &close))
			end = line;
		else
			close = true;
		s->parts++;
		entity_scan(s, (struct slice){ body.p + start, end - start }, depth + 1);
	}
}

static void entity_scan(struct scan *s, struct slice e, int depth)
{
	struct slice head, body;
	struct ctype c;
	if (depth > REPORT_MAX_DEPTH)
		return;
	entity_split(e, &head, &body);
	text_scan(s, head); /* X- headers, List-Unsubscribe and the like */
	ctype_parse(head, &c);
	if (!strcmp(c.type, "multipart")) {
		multipart_scan(s, &c, body, depth);
		return;
	}
	_cleanup_buf_ struct buf dec = BUF_INIT(st_add(body.len, 16));
	body_decode(&c, body, &dec);
	if (!strcmp(c.type, "message") && (!strcmp(c.subtype, "rfc822") || !strcmp(c.subtype, "global"))) {
		entity_scan(s, buf_slice(&dec), depth + 1); /* a forward as attachment */
		return;
	}
	/* text of any kind, and attachments too: a URL in them counts */
	text_scan(s, buf_slice(&dec));
}

/* "http://host:port/base/" -> "host:port/base" */
static struct slice needle_of(const char *tracker_url)
{
	struct slice u = slice_from(tracker_url);
	const char *sep = strstr(tracker_url, "://");
	if (sep) {
		u.p = sep + 3;
		u.len = strlen(u.p);
	}
	while (u.len && u.p[u.len - 1] == '/')
		u.len--;
	return u;
}

static const char *header_text(struct arena *a, struct slice head, const char *name)
{
	struct slice v;
	if (!header_find(head, name, &v))
		return "";
	_cleanup_buf_ struct buf b = BUF_INIT(4096);
	struct slice t = slice_trim(v);
	if (t.len > 998)
		t.len = 998;
	if (mail_header_decode(&b, t) < 0)
		return "";
	const char *out = arena_strndup(a, b.p, b.len);
	return out ? out : "";
}

int mail_report_scan(struct slice raw, const char *tracker_url, struct arena *a, struct mail_report *ret)
{
	struct mail_report m = { 0 };
	struct scan s = { .a = a, .needle = needle_of(tracker_url ? tracker_url : ""), .out = &m };
	struct slice head, body;
	if (raw.len > REPORT_MAX_RAW)
		return -E2BIG;
	if (!s.needle.len)
		return -EINVAL;
	entity_split(raw, &head, &body);
	m.message_id = header_text(a, head, "Message-ID");
	m.from = header_text(a, head, "From");
	entity_scan(&s, raw, 0);
	*ret = m;
	return 0;
}

/* ---- the IMAP client ---- */

struct mail_imap {
	CURL *curl;
	char *base;            /* imap[s]://host:port/<folder> */
	struct buf data;       /* what the last command returned */
	char errbuf[CURL_ERROR_SIZE];
	char error[CURL_ERROR_SIZE + 64];
	char *folder;
	bool allow_private;
	bool refused;          /* the last connect went to a private address */
	bool (*cancelled)(void *ctx);  /* mail_imap_options */
	void *cancel_ctx;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t data_write(char *p, size_t size, size_t nitems, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nitems;
	return buf_append(b, p, n) < 0 ? 0 : n; /* past the cap: the transfer fails */
}

bool mail_imap_host_valid(const char *h)
{
	if (!h || !h[0] || strlen(h) > 253)
		return false;
	for (const char *c = h; *c; c++)
		if (!is_alnum(*c) && *c != '-' && *c != '.' && *c != ':')
			return false;
	return true;
}

bool mail_imap_folder_valid(const char *f)
{
	size_t n = f ? strlen(f) : 0;
	if (!n || n > 200)
		return false;
	/* printable ASCII without the IMAP wildcards and quoting characters */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)f[i] < 0x20 || (unsigned char)f[i] > 0x7e || strchr("\"\\*%", f[i]))
			return false;
	return true;
}

/* CURLOPT_OPENSOCKETFUNCTION: checked on the address libcurl is about to
 * connect to, after resolving — a name that resolves to a private address
 * (or changes to one) is refused as well as a literal one. */
static curl_socket_t open_socket(void *cls, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct mail_imap *m = cls;
	(void)purpose;
	if (!m->allow_private && net_address_private(&addr->addr)) {
		m->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* CURLOPT_XFERINFOFUNCTION: libcurl calls it about once a second even when
 * nothing moves (connecting, waiting for an answer); non-zero aborts. */
static int imap_progress(void *cls, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct mail_imap *m = cls;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return m->cancelled && m->cancelled(m->cancel_ctx);
}

int mail_imap_new(const struct mail_imap_options *o, struct mail_imap **ret)
{
	if (!mail_imap_host_valid(o->host) || o->port < 1 || o->port > 65535 || !mail_imap_folder_valid(o->folder))
		return -EINVAL;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_result != CURLE_OK)
		return -EIO;
	struct mail_imap *m = xcalloc(1, sizeof(*m));
	m->allow_private = o->allow_private;
	m->cancelled = o->cancelled;
	m->cancel_ctx = o->cancel_ctx;
	m->folder = xstrdup(o->folder);
	buf_init(&m->data, IMAP_MAX_MESSAGE);
	_cleanup_buf_ struct buf url = BUF_INIT(1024);
	bool v6 = strchr(o->host, ':') != NULL;
	buf_printf(&url, "%s://%s%s%s:%d/", o->security == MAIL_IMAP_TLS ? "imaps" : "imap", v6 ? "[" : "", o->host,
		   v6 ? "]" : "", o->port);
	buf_put_url(&url, slice_from(o->folder));
	m->base = xstrdup(url.p);
	if (!(m->curl = curl_easy_init())) {
		mail_imap_free(m);
		return -ENOMEM;
	}
	CURL *c = m->curl;
	long timeout = o->timeout_seconds > 0 ? o->timeout_seconds : IMAP_TIMEOUT_DEFAULT;
	CURLcode e = CURLE_OK;
	e |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	e |= curl_easy_setopt(c, CURLOPT_USE_SSL, o->security == MAIL_IMAP_NONE ? (long)CURLUSESSL_NONE
										 : (long)CURLUSESSL_ALL);
	e |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->verify_tls ? 1L : 0L);
	e |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->verify_tls ? 2L : 0L);
	if (o->user && o->user[0])
		e |= curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
	if (o->password && o->password[0])
		e |= curl_easy_setopt(c, CURLOPT_PASSWORD, o->password);
	e |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 15 ? timeout : 15L);
	e |= curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	e |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* a server that trickles: under 1 KiB/s for 30 s fails the command */
	e |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	e |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	e |= curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	e |= curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, m);
	e |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, data_write);
	e |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &m->data);
	e |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, m->errbuf);
	if (m->cancelled) {
		e |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, imap_progress);
		e |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, m);
		e |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	if (e != CURLE_OK) {
		mail_imap_free(m);
		return -EINVAL;
	}
	*ret = m;
	return 0;
}

void mail_imap_free(struct mail_imap *m)
{
	if (!m)
		return;
	if (m->curl)
		curl_easy_cleanup(m->curl);
	buf_release(&m->data);
	free(m->base);
	free(m->folder);
	free(m);
}

const char *mail_imap_error(const struct mail_imap *m)
{
	return m->error;
}

static int curl_errno(CURLcode e)
{
	switch (e) {
	case CURLE_OK:
		return 0;
	case CURLE_LOGIN_DENIED:
		return -EACCES;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
		return -EKEYREJECTED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CACERT_BADFILE:
		return -EPROTO;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return -E2BIG;
	case CURLE_REMOTE_FILE_NOT_FOUND:
		return -ENOENT;
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

/* Runs one command on url (custom NULL: fetch the URL) into m->data. */
static int imap_run(struct mail_imap *m, const char *url, const char *custom, size_t max)
{
	buf_release(&m->data);
	buf_init(&m->data, max);
	m->errbuf[0] = '\0';
	m->error[0] = '\0';
	m->refused = false;
	if (m->cancelled && m->cancelled(m->cancel_ctx)) {
		snprintf(m->error, sizeof(m->error), "stopped");
		return -ECANCELED;
	}
	curl_easy_setopt(m->curl, CURLOPT_URL, url);
	curl_easy_setopt(m->curl, CURLOPT_CUSTOMREQUEST, custom);
	CURLcode e = curl_easy_perform(m->curl);
	int r = curl_errno(e);
	/* libcurl reports a refused SELECT as a refused login */
	if (r == -EACCES && strstr(m->errbuf, "Select failed"))
		r = -ENOENT;
	if (r < 0 && m->refused)
		r = -EPERM;
	if (r < 0)
		snprintf(m->error, sizeof(m->error), "%s", m->errbuf[0] ? m->errbuf : curl_easy_strerror(e));
	return r;
}

int mail_imap_check(struct mail_imap *m)
{
	/* SELECT the folder (libcurl does it before a custom command) and NOOP */
	return imap_run(m, m->base, "NOOP", IMAP_MAX_LIST);
}

/* The UIDs of "* SEARCH 3 7 9" lines (possibly several) in an answer,
 * above `after`, at most max, in the server's order.  Words that are not a
 * UID (a MODSEQ, garbage) are skipped.  Not static: tests/unit and
 * tests/fuzz call it. */
void mail_imap__search_parse(struct slice data, uint32_t after, size_t max, uint32_t **ret_uids, size_t *ret_n)
{
	uint32_t *uids = NULL;
	size_t n = 0, cap = 0;
	struct slice rest = data;
	while (rest.len) {
		struct slice line;
		rest = slice_cut(rest, '\n', &line);
		line = slice_trim(line);
		/* "* SEARCH" alone or before a space: not "* SEARCHRES 1" */
		if (!starts_nocase(line.p, line.len, "* SEARCH") || (line.len > 8 && line.p[8] != ' '))
			continue;
		line.p += 8;
		line.len -= 8;
		while (line.len && n < max) {
			struct slice word;
			line = slice_trim(line);
			line = slice_cut(line, ' ', &word);
			int64_t v;
			if (slice_to_i64(slice_trim(word), (int64_t)after + 1, UINT32_MAX, &v) < 0)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				uids = xrealloc(uids, cap * sizeof(*uids));
			}
			uids[n++] = (uint32_t)v;
		}
	}
	*ret_uids = uids;
	*ret_n = n;
}

int mail_imap_unseen(struct mail_imap *m, size_t max, uint32_t **ret_uids, size_t *ret_n)
{
	int r = imap_run(m, m->base, "UID SEARCH UNSEEN", IMAP_MAX_LIST);
	if (r < 0)
		return r;
	mail_imap__search_parse(buf_slice(&m->data), 0, max, ret_uids, ret_n);
	return 0;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int mail_imap_unseen_after(struct mail_imap *m, uint32_t after, size_t max, uint32_t **ret_uids, size_t *ret_n)
{
	if (after == UINT32_MAX) {
		*ret_uids = NULL;
		*ret_n = 0;
		return 0;
	}
	/* "n:*" always includes the highest UID, even below n: search_parse
	 * drops what is not above `after`.  SMALLER: a mail too big to read
	 * is never downloaded, and never asked for again once a later one is
	 * handled. */
	_cleanup_free_ char *cmd = xasprintf("UID SEARCH UID %u:* UNSEEN SMALLER %zu", after + 1, IMAP_MAX_MESSAGE);
	int r = imap_run(m, m->base, cmd, IMAP_MAX_LIST);
	if (r < 0)
		return r;
	mail_imap__search_parse(buf_slice(&m->data), after, SIZE_MAX, ret_uids, ret_n);
	if (*ret_n > 1)
		qsort(*ret_uids, *ret_n, sizeof(**ret_uids), uid_cmp);
	/* a UID twice (a broken or hostile server) would be fetched and
	 * reported twice: once each */
	size_t k = 0;
	for (size_t i = 0; i < *ret_n; i++)
		if (!k || (*ret_uids)[k - 1] != (*ret_uids)[i])
			(*ret_uids)[k++] = (*ret_uids)[i];
	*ret_n = k;
	if (*ret_n > max)
		*ret_n = max; /* the lowest: the place moves on in order */
	return 0;
}

/* UIDVALIDITY from "* STATUS <mailbox> (... UIDVALIDITY 1700000000 ...)":
 * the attribute list is the line's last parenthesis (a quoted mailbox name
 * may hold "(" or even "UIDVALIDITY 1" itself), read as name-value pairs
 * in any order.  -EIO when there is none, or it is not 1..2^32-1.  Not
 * static: tests/unit and tests/fuzz call it. */
int mail_imap__status_uidvalidity(struct slice data, uint32_t *ret)
{
	struct slice rest = data;
	while (rest.len) {
		struct slice line;
		rest = slice_cut(rest, '\n', &line);
		line = slice_trim(line);
		if (!starts_nocase(line.p, line.len, "* STATUS "))
			continue;
		const char *open = memrchr(line.p, '(', line.len);
		if (!open || line.p[line.len - 1] != ')')
			continue;
		struct slice list = { open + 1, (size_t)(line.p + line.len - 1 - (open + 1)) };
		while ((list = slice_trim(list)).len) {
			struct slice name, value;
			list = slice_cut(list, ' ', &name);
			list = slice_cut(slice_trim(list), ' ', &value);
			int64_t v;
			if (name.len != 11 || !starts_nocase(name.p, name.len, "UIDVALIDITY"))
				continue;
			if (slice_to_i64(value, 1, UINT32_MAX, &v) < 0)
				return -EIO;
			*ret = (uint32_t)v;
			return 0;
		}
	}
	return -EIO;
}

int mail_imap_uidvalidity(struct mail_imap *m, uint32_t *ret)
{
	_cleanup_free_ char *cmd = xasprintf("STATUS \"%s\" (UIDVALIDITY)", m->folder); /* no " or \ in it */
	int r = imap_run(m, m->base, cmd, IMAP_MAX_LIST);
	if (r < 0)
		return r;
	if (mail_imap__status_uidvalidity(buf_slice(&m->data), ret) < 0) {
		snprintf(m->error, sizeof(m->error), "no UIDVALIDITY in the STATUS answer");
		return -EIO;
	}
	return 0;
}

int mail_imap_fetch(struct mail_imap *m, uint32_t uid, struct buf *out)
{
	_cleanup_free_ char *url = xasprintf("%s/;UID=%u", m->base, uid);
	int r = imap_run(m, url, NULL, IMAP_MAX_MESSAGE);
	if (r < 0)
		return r;
	return buf_put_slice(out, buf_slice(&m->data));
}

int mail_imap_set_seen(struct mail_imap *m, uint32_t uid, bool seen)
{
	_cleanup_free_ char *cmd = xasprintf("UID STORE %u %cFLAGS (\\Seen)", uid, seen ? '+' : '-');
	return imap_run(m, m->base, cmd, IMAP_MAX_LIST);
}
