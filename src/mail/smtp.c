/*
 * smtp.c — sending: SMTP through one reused libcurl easy handle per sender
 * (so libcurl keeps the connection open between mails), or .eml files in
 * an outbox folder when no relay is configured.  The only user of libcurl.
 */
#include "mail/mail.h"

#include <pthread.h>

#include <curl/curl.h>

#define REPLY_MAX 4096
#define TIMEOUT_DEFAULT 60L

struct upload {
	const char *p;
	size_t len, pos;
};

struct mail_sender {
	char *outbox_dir;      /* outbox mode when curl is NULL */
	CURL *curl;
	struct upload upload;  /* the message being sent */
	struct buf reply;      /* latest server reply of this transfer */
	bool reply_done;       /* the next reply line starts a new reply */
	struct buf refusal;    /* first 4xx/5xx reply of this transfer */
	long refusal_code;
	long per_connection, on_connection; /* mails allowed / sent over the open connection */
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- libcurl callbacks ---- */

static size_t upload_read(char *dst, size_t size, size_t nitems, void *userdata)
{
	struct upload *u = userdata;
	size_t n = size * nitems, left = u->len - u->pos;
	if (n > left)
		n = left;
	memcpy(dst, u->p + u->pos, n);
	u->pos += n;
	return n;
}

/* The code of a reply line ("250 ok", "550-...") or 0. */
static long reply_code(struct slice line)
{
	int64_t v;
	if (line.len < 3 || slice_to_i64((struct slice){ line.p, 3 }, 100, 599, &v) < 0)
		return 0;
	return (long)v;
}

/*
 * libcurl hands every SMTP reply line to the header callback.  Keep the
 * latest reply (all its lines), and the first refusal (4xx, 5xx) apart:
 * the QUIT that follows a failure must not hide it.
 */
static size_t reply_line(char *data, size_t size, size_t nitems, void *userdata)
{
	struct mail_sender *s = userdata;
	struct slice line = slice_trim((struct slice){ data, size * nitems });

	if (s->reply_done) {
		buf_reset(&s->reply);
		s->reply_done = false;
	}
	if (s->reply.len)
		buf_putc(&s->reply, ' ');       /* truncated at REPLY_MAX: fine */
	buf_put_slice(&s->reply, line);
	/* "250-..." continues, "250 ..." (or a bare code) ends a reply */
	s->reply_done = line.len < 4 || line.p[3] != '-';
	if (s->reply_done && !s->refusal_code && reply_code(line) >= 400) {
		s->refusal_code = reply_code(line);
		buf_put_slice(&s->refusal, buf_slice(&s->reply));
	}
	return size * nitems;
}

/* ---- the sender ---- */

/* Replaces the path of the URL with "/helo": libcurl's way to set the EHLO name. */
static char *url_with_helo(const char *url, const char *helo)
{
	CURLU *u = curl_url();
	char *path = NULL, *out = NULL, *copy = NULL;

	if (!u)
		return NULL;
	path = xasprintf("/%s", helo);
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PATH, path, CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
		copy = xstrdup(out);
		curl_free(out);
	}
	free(path);
	curl_url_cleanup(u);
	return copy;
}

static bool helo_valid(const char *h)
{
	if (!*h || strlen(h) > 255)
		return false;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '.' || *p == '[' || *p == ']' || *p == ':'))
			return false;
	return true;
}

/* Sets the options that stay the same for every mail of this sender. */
static int sender_setup(struct mail_sender *s, const struct mail_sender_options *o)
{
	_cleanup_free_ char *url = NULL;
	CURL *c = s->curl;
	long timeout = o->timeout_seconds > 0 ? o->timeout_seconds : TIMEOUT_DEFAULT;
	bool implicit_tls = strncasecmp(o->smtp_url, "smtps://", 8) == 0;
	CURLcode e = CURLE_OK; /* OR-ed: non-zero once any option failed */

	if (o->helo && *o->helo) {
		if (!helo_valid(o->helo) || !(url = url_with_helo(o->smtp_url, o->helo)))
			return -EINVAL;
	}
	e |= curl_easy_setopt(c, CURLOPT_URL, url ? url : o->smtp_url);
	e |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	long use_ssl = implicit_tls || o->tls == MAIL_TLS_STARTTLS ? CURLUSESSL_ALL
		       : o->tls == MAIL_TLS_NONE			 ? CURLUSESSL_NONE
									 : CURLUSESSL_TRY;
	e |= curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
	e |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->verify_tls ? 1L : 0L);
	e |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->verify_tls ? 2L : 0L);
	e |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
	e |= curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	e |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	e |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	e |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	e |= curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
	e |= curl_easy_setopt(c, CURLOPT_READDATA, &s->upload);
	e |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, reply_line);
	e |= curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	if (o->user && *o->user) {
		e |= curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
		e |= curl_easy_setopt(c, CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	return e == CURLE_OK ? 0 : -EINVAL;
}

struct mail_sender *mail_sender_new(const struct mail_sender_options *o)
{
	struct mail_sender *s = xcalloc(1, sizeof(*s));

	buf_init(&s->reply, REPLY_MAX);
	buf_init(&s->refusal, REPLY_MAX);
	if (!o->smtp_url || !*o->smtp_url) {
		if (!o->outbox_dir || !*o->outbox_dir) {
			free(s);
			return NULL;
		}
		s->outbox_dir = xstrdup(o->outbox_dir);
		return s;
	}
	pthread_once(&curl_once, curl_init_once);
	s->per_connection = o->per_connection;
	if (curl_init_result != CURLE_OK || !(s->curl = curl_easy_init()) || sender_setup(s, o) < 0) {
		mail_sender_free(s);
		return NULL;
	}
	return s;
}

void mail_sender_free(struct mail_sender *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl); /* says QUIT on an open connection */
	buf_release(&s->reply);
	buf_release(&s->refusal);
	free(s->outbox_dir);
	free(s);
}

/* ---- outbox mode ---- */

/* A subdir is relative, made of [A-Za-z0-9._-] names, none of them "." or "..". */
static bool subdir_valid(const char *d)
{
	size_t seg = 0;
	bool dots_only = true;

	if (!*d || *d == '/' || strlen(d) > 200)
		return false;
	for (const char *p = d;; p++) {
		if (*p == '/' || !*p) {
			if (seg == 0 || (dots_only && seg <= 2))
				return false;
			if (!*p)
				return true;
			seg = 0;
			dots_only = true;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return false;
		dots_only = dots_only && *p == '.';
		seg++;
	}
}

static int outbox_send(struct mail_sender *s, struct slice message, const char *subdir, char **ret_reply)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	char rnd[9];
	int r;

	if (subdir && *subdir && !subdir_valid(subdir))
		return -EINVAL;
	dir = subdir && *subdir ? xasprintf("%s/%s", s->outbox_dir, subdir) : xstrdup(s->outbox_dir);
	id_random(rnd, 8);
	path = xasprintf("%s/%lld-%s.eml", dir, (long long)now_unix(), rnd);
	r = mkdir_p(dir, 0750);
	if (r == 0)
		r = file_write_atomic(path, message.p, message.len);
	if (r < 0) {
		if (ret_reply)
			*ret_reply = xasprintf("outbox: %s: %s", path, strerror(-r));
		return -EAGAIN; /* a full disk or a permission fixed later: worth retrying */
	}
	if (ret_reply)
		*ret_reply = xasprintf("written to %s", path);
	return 0;
}

/* ---- SMTP mode ---- */

static int curl_error_map(CURLcode e, long code)
{
	switch (e) {
	case CURLE_OK:
		return 0;
	case CURLE_LOGIN_DENIED: /* the relay's credentials: fixed by an operator, then retried */
		return -EAGAIN;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		return -EINVAL;
	default:
		break;
	}
	if (code >= 500)
		return -EIO;
	/* 4xx replies, and connection trouble: CURLE_COULDNT_CONNECT,
	 * CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, TLS... */
	return -EAGAIN;
}

static char *reply_text(struct mail_sender *s, CURLcode e)
{
	if (e == CURLE_OK)
		return xstrdup(s->reply.p);
	if (s->refusal.len)
		return xstrdup(s->refusal.p);
	return xstrdup(s->errbuf[0] ? s->errbuf : curl_easy_strerror(e));
}

static int smtp_send(struct mail_sender *s, const char *from, const char *rcpt, struct slice message,
		     char **ret_reply)
{
	_cleanup_free_ char *mail_from = xasprintf("<%s>", from), *rcpt_to = xasprintf("<%s>", rcpt);
	struct curl_slist *rcpts = curl_slist_append(NULL, rcpt_to);
	long code = 0;

	if (!rcpts)
		return -ENOMEM;
	s->upload = (struct upload){ message.p, message.len, 0 };
	buf_reset(&s->reply);
	s->reply_done = false;
	buf_reset(&s->refusal);
	s->refusal_code = 0;
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, mail_from);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)message.len);
	/* the last mail of a connection closes it; the next one opens another */
	bool last = s->per_connection > 0 && ++s->on_connection >= s->per_connection;
	curl_easy_setopt(s->curl, CURLOPT_FORBID_REUSE, last ? 1L : 0L);
	if (last)
		s->on_connection = 0;

	CURLcode e = curl_easy_perform(s->curl);
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpts);
	s->upload = (struct upload){ 0 };

	int r = curl_error_map(e, s->refusal_code ? s->refusal_code : code);
	if (ret_reply)
		*ret_reply = reply_text(s, e);
	return r;
}

int mail_sender_send(struct mail_sender *s, const char *envelope_from, const char *rcpt,
		     struct slice message, const char *subdir, char **ret_reply)
{
	/* An empty envelope sender is the null reverse-path "<>". */
	if ((envelope_from && *envelope_from && !mail_addr_valid(envelope_from)) || !mail_addr_valid(rcpt))
		return -EINVAL;
	if (!s->curl)
		return outbox_send(s, message, subdir, ret_reply);
	return smtp_send(s, envelope_from ? envelope_from : "", rcpt, message, ret_reply);
}
