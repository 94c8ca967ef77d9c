/*
 * main.c — the kunren command: serve, migrate, version.
 */
#include "api/api.h"
#include "auth/auth.h"
#include "content/content.h"
#include "core/core.h"
#include "deliver/deliver.h"
#include "http/http.h"
#include "store/store.h"
#include "track/track.h"

#include <signal.h>
#include <pthread.h>

#define KUNREN_VERSION "0.1.0"

static void usage(FILE *f)
{
	fputs("usage: kunren [--config=FILE] [--option=value ...] COMMAND\n"
	      "\n"
	      "commands:\n"
	      "  serve     run the console and the tracking server (default)\n"
	      "  migrate   bring the database schema up to date and exit\n"
	      "  version   print the version\n"
	      "\n"
	      "Options are read from kunren.conf (or --config=FILE), then from KUNREN_*\n"
	      "environment variables, then from --option=value flags; see kunren.conf.example.\n",
	      f);
}

static int die(const char *what, char *err)
{
	fprintf(stderr, "kunren: %s%s%s\n", what, err ? ": " : "", err ? err : "");
	free(err);
	return 1;
}

/* ---- configuration ---- */

static int config_read(struct config *c, int *argc, char **argv)
{
	const char *file = getenv("KUNREN_CONFIG");
	bool optional = !file;
	char *err = NULL;

	for (int i = 1; i < *argc; i++)
		if (!strncmp(argv[i], "--config=", 9)) {
			file = argv[i] + 9;
			optional = false;
			memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof(*argv));
			(*argc)--;
			break;
		}
	config_init(c);
	if (config_load_file(c, file ? file : "kunren.conf", optional, &err) < 0 ||
	    config_load_env(c, &err) < 0 || config_load_flags(c, argc, argv, &err) < 0)
		return die("configuration", err);

	static const char *levels[] = { "debug", "info", "warn", "error" };
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++)
		if (!strcmp(c->log_level, levels[i]))
			log_set_level((enum log_level)i);
	if (!tz_get(c->time_zone))
		return die("configuration", xasprintf("time_zone: unknown time zone \"%s\"", c->time_zone));
	return 0;
}

static int store_prepare(const struct config *c, struct store **ret, int *ret_applied)
{
	char *err = NULL;
	int r = mkdir_p(c->data_dir, 0750);
	if (r < 0)
		return die("data folder", xasprintf("%s: %s", c->data_dir, strerror(-r)));
	_cleanup_free_ char *path = xasprintf("%s/kunren.db", c->data_dir);
	if (store_open(path, ret, &err) < 0)
		return die("database", err);
	if ((r = store_migrate(*ret, ret_applied)) < 0) {
		store_close(*ret);
		return die("database migration failed", xasprintf("%s", strerror(-r)));
	}
	return 0;
}

/* ---- first start ---- */

static const char *env_or_random(const char *name, struct arena *a)
{
	const char *v = getenv(name);
	if (v && v[0])
		return v;
	char buf[21];
	id_random(buf, 20);
	return arena_strdup(a, buf);
}

static int account_add(struct store *s, int64_t tenant, const char *user, const char *password, enum role role,
		       int64_t *ret_id)
{
	_cleanup_free_ char *hash = NULL;
	int r = auth_password_hash(password, &hash);
	return r < 0 ? r : store_account_create(s, tenant, user, hash, role, ret_id);
}

/* Creates the operator, a demo tenant and its owner when the store is empty. */
static int first_start(struct store *s, const struct config *c)
{
	int64_t tenants, tenant, owner, op;
	int r = store_tenant_count(s, &tenants);
	if (r < 0 || tenants > 0)
		return r;
	struct arena *a = arena_new(0);
	const char *pw = env_or_random("KUNREN_INITIAL_PASSWORD", a);
	const char *op_pw = env_or_random("KUNREN_OPERATOR_PASSWORD", a);
	const char *fixed_key = getenv("KUNREN_INITIAL_API_KEY");
	const char *key = NULL;
	if ((r = store_tenant_create(s, "デモ株式会社", c->time_zone, &tenant)) >= 0 &&
	    (r = account_add(s, 0, "operator", op_pw, ROLE_OPERATOR, &op)) >= 0 &&
	    (r = account_add(s, tenant, "demo", pw, ROLE_OWNER, &owner)) >= 0)
		r = auth_api_key_create(s, owner, "first start", fixed_key && fixed_key[0] ? fixed_key : NULL, a, &key);
	if (r >= 0) {
		printf("First start: created the demo tenant \"デモ株式会社\".\n"
		       "  Console login:  demo / %s\n"
		       "  API key:        %s\n"
		       "  Operator login: operator / %s\n",
		       pw, key, op_pw);
	}
	arena_free(a);
	return r;
}

/* ---- serve ---- */

/* "http://host:port" for a listen address and the port actually bound. */
static char *listen_url(const char *listen, int port)
{
	const char *colon = strrchr(listen, ':');
	size_t hostlen = colon ? (size_t)(colon - listen) : strlen(listen);
	_cleanup_free_ char *host = xstrndup(listen, hostlen);
	if (!strcmp(host, "0.0.0.0") || !host[0]) {
		free(host);
		host = xstrdup("127.0.0.1");
	} else if (!strcmp(host, "[::]")) {
		free(host);
		host = xstrdup("[::1]");
	}
	return xasprintf("http://%s:%d", host, port);
}

static char *trim_slash(const char *url)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

static int serve(struct config *c)
{
	struct store *store = NULL;
	struct track *track = NULL;
	struct deliver *deliver = NULL;
	struct http_server *tracker = NULL, *console = NULL;
	_cleanup_free_ char *tracker_url = NULL, *console_url = NULL, *outbox = NULL;
	char *err = NULL;
	sigset_t sigs;
	int applied, sig, rc = 1, r;

	/* Threads inherit this mask; only sigwait below sees these signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((r = content_gallery_load(&err)) < 0)
		return die("scenario gallery", err);
	if (store_prepare(c, &store, &applied))
		return 1;
	if (applied)
		log_info("database: applied %d migration%s", applied, applied == 1 ? "" : "s");
	if ((r = first_start(store, c)) < 0) {
		die("first start", xasprintf("%s", strerror(-r)));
		goto out;
	}

	track = track_new(store, NULL);
	struct http_server_options to = {
		.listen = c->tracker_listen,
		.threads = (unsigned)c->http_threads,
		.max_body = 64 * 1024,
		.routes = track_routes,
		.nroutes = track_routes_count,
		.not_found = track_not_found,
		.app = track,
	};
	if (!track || !(tracker = http_server_new(&to, &err))) {
		die("tracking server", err);
		goto out;
	}
	tracker_url = c->tracker_url[0] ? trim_slash(c->tracker_url)
					: listen_url(c->tracker_listen, http_server_port(tracker));
	track_set_url(track, tracker_url);

	outbox = c->smtp_url[0] ? xstrdup("") : xasprintf("%s/outbox", c->data_dir);
	struct deliver_options dopt = {
		.store = store,
		.sender = {
			.smtp_url = c->smtp_url,
			.user = c->smtp_user[0] ? c->smtp_user : NULL,
			.password = c->smtp_password,
			.verify_tls = c->smtp_verify_tls,
			.helo = c->helo_name[0] ? c->helo_name : NULL,
			.outbox_dir = outbox,
			.timeout_seconds = 60,
		},
		.tracker_url = tracker_url,
		.id_domain = c->helo_name,
		.batch = (size_t)c->delivery_batch,
	};
	if (!(deliver = deliver_start(&dopt, &err))) {
		die("delivery", err);
		goto out;
	}

	struct api api = {
		.cfg = c,
		.store = store,
		.deliver = deliver,
		.tracker_url = tracker_url,
		.outbox_dir = outbox,
		.limits = { c->session_idle_minutes * 60, c->session_max_hours * 3600 },
		.secure_cookies = !strncmp(c->console_url, "https:", 6),
	};
	struct http_server_options co = {
		.listen = c->console_listen,
		.threads = (unsigned)c->http_threads,
		.max_body = (size_t)c->max_body_bytes,
		.routes = api_routes,
		.nroutes = api_routes_count,
		.not_found = api_not_found,
		.default_headers = api_default_headers,
		.app = &api,
	};
	if (!(console = http_server_new(&co, &err))) {
		die("console", err);
		goto out;
	}
	console_url = c->console_url[0] ? trim_slash(c->console_url)
					: listen_url(c->console_listen, http_server_port(console));

	printf("Kunren console:  %s/\nKunren tracker:  %s/\n", console_url, tracker_url);
	if (!c->smtp_url[0])
		printf("Mail goes to the outbox (%s); set smtp_url to send it.\n", outbox);
	printf("Ready.\n");
	fflush(stdout);

	sigwait(&sigs, &sig);
	log_info("signal %d: stopping", sig);
	rc = 0;
out:
	http_server_free(console);
	http_server_free(tracker);
	deliver_stop(deliver);
	track_free(track);
	store_close(store);
	return rc;
}

int main(int argc, char **argv)
{
	struct config c;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (auth_init() < 0)
		return die("libsodium could not be initialised", NULL);
	if (config_read(&c, &argc, argv)) {
		config_release(&c);
		return 2;
	}
	const char *cmd = argc > 1 ? argv[1] : "serve";
	if (!strcmp(cmd, "serve")) {
		rc = serve(&c);
	} else if (!strcmp(cmd, "migrate")) {
		struct store *s;
		int applied;
		rc = store_prepare(&c, &s, &applied);
		if (!rc) {
			printf("applied %d migration%s\n", applied, applied == 1 ? "" : "s");
			store_close(s);
		}
	} else if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("kunren %s\n", KUNREN_VERSION);
		rc = 0;
	} else if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		rc = 0;
	} else {
		fprintf(stderr, "kunren: unknown command \"%s\"\n", cmd);
		usage(stderr);
		rc = 2;
	}
	config_release(&c);
	return rc;
}
