/*
 * tls.c — a listener's certificate chain and private key: read from PEM
 * files, handed to GnuTLS at each handshake through libmicrohttpd's
 * certificate callback, and replaced on reload while the connections
 * opened before keep the pair their handshake picked.
 *
 * Lifetime of a pair: `current` is owned by struct http_tls; each
 * connection whose handshake picked a pair counts as one of its `users`
 * (GnuTLS keeps pointers to the certificates and the key in its session
 * until the session is freed).  A reload makes the new pair current and
 * moves the old one to `retired` when it still has users; the close of
 * its last connection frees it.  One mutex guards the three.
 */
#include "http/http_int.h"

#include <pthread.h>
#include <sys/stat.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define TLS_FILE_MAX ((size_t)1 << 20) /* a PEM file larger than this is not ours */
#define TLS_CHAIN_MAX 16               /* certificates in one chain */
/* TLS 1.2 and 1.3 only; GnuTLS' default suites otherwise. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct tls_pair {
	gnutls_pcert_st certs[TLS_CHAIN_MAX];
	unsigned ncerts;
	gnutls_privkey_t key;
	unsigned users;         /* connections whose handshake picked it */
	struct tls_pair *next;  /* in http_tls.retired */
};

struct http_tls {
	char *cert_path, *key_path;
	pthread_mutex_t lock;
	struct tls_pair *current;
	struct tls_pair *retired; /* replaced, still used by open connections */
};

/* MHD's socket context of a connection to a TLS daemon. */
struct tls_conn {
	struct http_tls *tls;
	struct tls_pair *pair;  /* NULL until the handshake picks one */
};

static void pair_free(struct tls_pair *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->ncerts; i++)
		gnutls_pcert_deinit(&p->certs[i]);
	if (p->key)
		gnutls_privkey_deinit(p->key);
	free(p);
}

static int pem_read(const char *path, const char *what, struct buf *b, char **ret_err)
{
	int r = file_read(path, TLS_FILE_MAX, b);

	if (r < 0)
		*ret_err = xasprintf("%s %s: %s", what, path,
				     r == -E2BIG ? "larger than 1 MiB, not a PEM file" : strerror(-r));
	return r;
}

static bool pubkey_equal(gnutls_pubkey_t a, gnutls_pubkey_t b)
{
	gnutls_datum_t da = { 0 }, db = { 0 };
	bool eq = gnutls_pubkey_export2(a, GNUTLS_X509_FMT_DER, &da) >= 0 &&
		  gnutls_pubkey_export2(b, GNUTLS_X509_FMT_DER, &db) >= 0 &&
		  da.size == db.size && memcmp(da.data, db.data, da.size) == 0;

	gnutls_free(da.data);
	gnutls_free(db.data);
	return eq;
}

/* Whether the key is the private half of the chain's first certificate. */
static bool pair_matches(struct tls_pair *p)
{
	gnutls_pubkey_t pub;
	bool eq;

	if (gnutls_pubkey_init(&pub) < 0)
		return false;
	eq = gnutls_pubkey_import_privkey(pub, p->key, 0, 0) >= 0 && pubkey_equal(pub, p->certs[0].pubkey);
	gnutls_pubkey_deinit(pub);
	return eq;
}

/* Warnings that do not stop a start: a key anyone may read, a certificate
 * out of its validity period. */
static void pair_check(const struct tls_pair *p, const char *cert_path, const char *key_path)
{
	struct stat st;
	gnutls_x509_crt_t crt;
	time_t now = time(NULL);

	if (stat(key_path, &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("tls: the private key %s is readable by every user of this machine: "
			 "chmod o-rwx it", key_path);
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &p->certs[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
		time_t until = gnutls_x509_crt_get_expiration_time(crt);
		time_t from = gnutls_x509_crt_get_activation_time(crt);
		if (until != (time_t)-1 && until < now)
			log_warn("tls: the certificate %s expired %lld days ago: clients will refuse it",
				 cert_path, (long long)(now - until) / 86400);
		else if (from != (time_t)-1 && from > now)
			log_warn("tls: the certificate %s is not valid yet (check the clock)", cert_path);
	}
	gnutls_x509_crt_deinit(crt);
}

/* Reads and checks a pair; on failure *ret_err says which file and why. */
static int pair_load(const char *cert_path, const char *key_path, struct tls_pair **ret, char **ret_err)
{
	_cleanup_buf_ struct buf cert = BUF_INIT(0), key = BUF_INIT(0);
	struct tls_pair *p;
	gnutls_datum_t d;
	int r;

	if (pem_read(cert_path, "certificate", &cert, ret_err) < 0 ||
	    pem_read(key_path, "private key", &key, ret_err) < 0)
		return -EINVAL;

	p = xcalloc(1, sizeof(*p));
	p->ncerts = TLS_CHAIN_MAX;
	d = (gnutls_datum_t){ (unsigned char *)cert.p, (unsigned)cert.len };
	r = gnutls_pcert_list_import_x509_raw(p->certs, &p->ncerts, &d, GNUTLS_X509_FMT_PEM,
					      GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED |
					      GNUTLS_X509_CRT_LIST_SORT);
	if (r < 0 || p->ncerts == 0) {
		p->ncerts = 0;
		*ret_err = xasprintf("certificate %s: %s", cert_path,
				     r == GNUTLS_E_SHORT_MEMORY_BUFFER ? "more than 16 certificates in the chain"
				     : r < 0 ? gnutls_strerror(r) : "no PEM certificate in it");
		goto fail;
	}
	d = (gnutls_datum_t){ (unsigned char *)key.p, (unsigned)key.len };
	if ((r = gnutls_privkey_init(&p->key)) < 0 ||
	    (r = gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		*ret_err = xasprintf("private key %s: %s (an unencrypted PEM key is expected)", key_path,
				     gnutls_strerror(r));
		goto fail;
	}
	if (!pair_matches(p)) {
		*ret_err = xasprintf("private key %s does not belong to the certificate %s", key_path,
				     cert_path);
		goto fail;
	}
	pair_check(p, cert_path, key_path);
	*ret = p;
	return 0;
fail:
	pair_free(p);
	return -EINVAL;
}

/* Called with t->lock held: one connection stops using p. */
static void pair_release_locked(struct http_tls *t, struct tls_pair *p)
{
	if (!p)
		return;
	BUG_ON(p->users == 0);
	if (--p->users > 0 || p == t->current)
		return;
	for (struct tls_pair **pp = &t->retired; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pair_free(p);
}

struct http_tls *http__tls_new(const char *cert_path, const char *key_path, char **ret_err)
{
	struct tls_pair *p;
	struct http_tls *t;

	if (MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) != MHD_YES) {
		*ret_err = xstrdup("this libmicrohttpd cannot serve TLS (built without GnuTLS 3)");
		return NULL;
	}
	if (pair_load(cert_path, key_path, &p, ret_err) < 0)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->cert_path = xstrdup(cert_path);
	t->key_path = xstrdup(key_path);
	t->current = p;
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void http__tls_free(struct http_tls *t)
{
	if (!t)
		return;
	/* The daemon has stopped: every connection was closed and released
	 * its pair, so `retired` is empty; free it anyway if not. */
	while (t->retired) {
		struct tls_pair *p = t->retired;
		t->retired = p->next;
		pair_free(p);
	}
	pair_free(t->current);
	pthread_mutex_destroy(&t->lock);
	free(t->cert_path);
	free(t->key_path);
	free(t);
}

int http__tls_reload(struct http_tls *t, char **ret_err)
{
	struct tls_pair *p, *old;

	if (pair_load(t->cert_path, t->key_path, &p, ret_err) < 0)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	old = t->current;
	t->current = p;
	if (old->users > 0) {
		old->next = t->retired;
		t->retired = old;
		old = NULL;
	}
	pthread_mutex_unlock(&t->lock);
	pair_free(old);
	return 0;
}

/* The pair a connection's handshake uses: the current one, counted. */
static struct tls_pair *tls_conn_pick(struct tls_conn *tc)
{
	struct tls_pair *p;

	pthread_mutex_lock(&tc->tls->lock);
	p = tc->tls->current;
	if (tc->pair != p) { /* first handshake, or a renegotiation after a reload */
		p->users++;
		pair_release_locked(tc->tls, tc->pair);
		tc->pair = p;
	}
	pthread_mutex_unlock(&tc->tls->lock);
	return p;
}

/* gnutls_certificate_retrieve_function2: the server's chain for a handshake.
 * No closure argument: the connection (MHD sets it as the session pointer)
 * leads to its socket context, and that to the listener's http_tls. */
static int tls_pick(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **ret_certs,
		    unsigned int *ret_n, gnutls_privkey_t *ret_key)
{
	struct MHD_Connection *c = gnutls_session_get_ptr(session);
	const union MHD_ConnectionInfo *ci =
		c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	struct tls_conn *tc = ci ? ci->socket_context : NULL;
	struct tls_pair *p;

	if (!tc)
		return -1; /* not a connection we were told of: refuse the handshake */
	p = tls_conn_pick(tc);
	*ret_certs = p->certs;
	*ret_n = p->ncerts;
	*ret_key = p->key;
	return 0;
}

/* MHD_OPTION_NOTIFY_CONNECTION: a connection's context, and the release of
 * its pair when it closes (before MHD frees its GnuTLS session, which only
 * drops its pointers to the pair then). */
static void tls_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			   enum MHD_ConnectionNotificationCode toe)
{
	struct http_tls *t = cls;
	struct tls_conn *tc;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		tc = xcalloc(1, sizeof(*tc));
		tc->tls = t;
		*socket_context = tc;
		return;
	}
	if (!(tc = *socket_context))
		return;
	*socket_context = NULL;
	pthread_mutex_lock(&t->lock);
	pair_release_locked(t, tc->pair);
	pthread_mutex_unlock(&t->lock);
	free(tc);
}

void http__tls_options(struct http_tls *t, struct MHD_OptionItem o[HTTP_TLS_OPTIONS])
{
	o[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)tls_pick };
	o[1] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)tls_connection, t };
	o[2] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES };
	o[3] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}
