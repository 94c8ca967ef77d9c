/*
 * send.c — one webhook POST with libcurl: no redirects, TLS verified,
 * bounded in time, the answer's body kept only as a short excerpt, and the
 * connection refused when it would go to a loopback, private or link-local
 * address (core/net.h) unless the operator allows that.  The check runs on
 * the address libcurl is about to connect to, after resolving, so a name
 * that resolves (or re-resolves) to a private address is refused as well
 * as a literal one.
 */
#include "webhook/webhook.h"
#include "core/net.h"

#include <pthread.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* A literal IPv4 or IPv6 address (brackets allowed) that is private. */
static bool literal_private(const char *host)
{
	char h[64];
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(h))
		return false;
	memcpy(h, host, n);
	h[n] = '\0';
	char *pct = strchr(h, '%'); /* a zone id: fe80::1%eth0 */
	if (pct)
		*pct = '\0';
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET, h, &a4.sin_addr) == 1)
		return net_address_private((const struct sockaddr *)&a4);
	if (inet_pton(AF_INET6, h, &a6.sin6_addr) == 1)
		return net_address_private((const struct sockaddr *)&a6);
	return false;
}

bool webhook_url_valid(const char *url, bool allow_private, const char **ret_msg)
{
	if (!url || !url[0] || strlen(url) > WEBHOOK_URL_MAX) {
		*ret_msg = "must be an http or https URL of at most 2048 characters";
		return false;
	}
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
			*ret_msg = "must not contain spaces or control characters";
			return false;
		}
	/* libcurl would read "https:///x" as host x: the host comes right after "//" */
	const char *sep = strstr(url, "://");
	if (!sep || sep[3] == '/' || sep[3] == '\0') {
		*ret_msg = "must be an absolute http or https URL";
		return false;
	}
	pthread_once(&curl_once, curl_init_once);
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL, *fragment = NULL;
	bool ok = false;
	*ret_msg = "must be an absolute http or https URL";
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (!strcmp(scheme, "http") || !strcmp(scheme, "https")) &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0]) {
		curl_url_get(u, CURLUPART_USER, &user, 0);
		curl_url_get(u, CURLUPART_PASSWORD, &password, 0);
		curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0);
		if (user || password)
			*ret_msg = "must not contain a user name or password (use the signature to authenticate)";
		else if (fragment)
			*ret_msg = "must not contain a fragment (#...)";
		else if (!allow_private && literal_private(host))
			*ret_msg = "must not point to a loopback, private or link-local address on this server "
				   "(webhook_allow_private)";
		else
			ok = true;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_free(fragment);
	curl_url_cleanup(u);
	return ok;
}

struct send_ctx {
	const struct webhook_send_options *o;
	bool refused;           /* a connection to a private address was refused */
	bool aborted;
	struct buf excerpt;
};

static curl_socket_t open_socket(void *cls, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct send_ctx *x = cls;
	(void)purpose;
	if (!x->o->allow_private && net_address_private(&addr->addr)) {
		x->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* The answer's body: its start is kept, the rest read and dropped (the
 * time limit bounds how much that can be). */
static size_t body_write(char *p, size_t size, size_t nitems, void *userdata)
{
	struct send_ctx *x = userdata;
	size_t n = size * nitems;
	if (x->excerpt.len < WEBHOOK_EXCERPT_MAX) {
		size_t take = WEBHOOK_EXCERPT_MAX - x->excerpt.len;
		buf_append(&x->excerpt, p, n < take ? n : take);
	}
	return n;
}

static int progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct send_ctx *x = clientp;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (x->o->cancelled && x->o->cancelled(x->o->ctx)) {
		x->aborted = true;
		return 1;
	}
	return 0;
}

/* What went wrong, in words fit for the tenant (no addresses or banners:
 * those go to the log). */
static const char *failure_text(CURLcode e)
{
	switch (e) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return "host not found";
	case CURLE_COULDNT_CONNECT:
		return "connection refused";
	case CURLE_OPERATION_TIMEDOUT:
		return "timed out";
	case CURLE_PEER_FAILED_VERIFICATION:
		return "TLS certificate not trusted";
	case CURLE_SSL_CONNECT_ERROR:
		return "TLS failed";
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return "connection closed without an answer";
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return "URL not usable";
	default:
		return "request failed";
	}
}

void webhook_post(const char *url, struct slice secret, const char *kind, const char *delivery_id,
		  struct slice body, const struct webhook_send_options *o, struct webhook_result *ret)
{
	*ret = (struct webhook_result){ 0 };
	struct send_ctx x = { .o = o, .excerpt = BUF_INIT(WEBHOOK_EXCERPT_MAX + 1) };
	char errbuf[CURL_ERROR_SIZE] = "", sig[WEBHOOK_SIGNATURE_MAX];
	int64_t started = now_ms();
	struct curl_slist *h = NULL;
	CURL *c = NULL;
	char *hsig = NULL, *hkind = NULL, *hid = NULL;

	pthread_once(&curl_once, curl_init_once);
	if (curl_init_result != CURLE_OK || !(c = curl_easy_init())) {
		snprintf(ret->error, sizeof(ret->error), "the HTTP client cannot start");
		goto out;
	}
	if (webhook_sign(secret, now_unix(), body, sig) < 0) {
		snprintf(ret->error, sizeof(ret->error), "the body cannot be signed");
		goto out;
	}
	hsig = xasprintf("Kunren-Signature: %s", sig);
	hkind = xasprintf("Kunren-Event: %s", kind);
	hid = xasprintf("Kunren-Delivery: %s", delivery_id);
	const char *lines[] = { "Content-Type: application/json", hsig, hkind, hid, "Expect:" };
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		struct curl_slist *n = curl_slist_append(h, lines[i]);
		if (!n) {
			snprintf(ret->error, sizeof(ret->error), "out of memory");
			goto out;
		}
		h = n;
	}
	long timeout = o->timeout_seconds > 0 ? o->timeout_seconds : 10, status = 0;
	CURLcode e = CURLE_OK;
	e |= curl_easy_setopt(c, CURLOPT_URL, url);
	e |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	e |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	e |= curl_easy_setopt(c, CURLOPT_PROXY, "");  /* never the environment's proxy: the address check must see the real peer */
	e |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	e |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	e |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	e |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
	e |= curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	e |= curl_easy_setopt(c, CURLOPT_USERAGENT, "Kunren-Webhook/1");
	e |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	e |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.p);
	e |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
	e |= curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	e |= curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &x);
	e |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	e |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	e |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	e |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	e |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	e |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (e != CURLE_OK) {
		snprintf(ret->error, sizeof(ret->error), "URL not usable");
		goto out;
	}
	e = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	ret->status = status;
	if (x.aborted) {
		ret->aborted = true;
		snprintf(ret->error, sizeof(ret->error), "stopped");
	} else if (x.refused) {
		snprintf(ret->error, sizeof(ret->error),
			 "the address is not allowed (loopback, private or link-local; webhook_allow_private)");
	} else if (e != CURLE_OK) {
		snprintf(ret->error, sizeof(ret->error), "%s", failure_text(e));
		log_info("webhook %s: %s (%s)", delivery_id, curl_easy_strerror(e), errbuf);
	} else if (status < 200 || status > 299) {
		snprintf(ret->error, sizeof(ret->error), "HTTP %ld%s", status,
			 status >= 300 && status < 400 ? " (redirects are not followed)" : "");
	} else {
		ret->ok = true;
	}
out:
	ret->duration_ms = now_ms() - started;
	if (x.excerpt.len) {
		_cleanup_buf_ struct buf clean = BUF_INIT(sizeof(ret->excerpt));
		buf_put_utf8(&clean, buf_slice(&x.excerpt));
		snprintf(ret->excerpt, sizeof(ret->excerpt), "%s", clean.p);
	}
	buf_release(&x.excerpt);
	free(hsig);
	free(hkind);
	free(hid);
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
}
