/* config.c — the one table of options, and its three sources. */
#include "core/core.h"

#define S(f) offsetof(struct config, f)
const struct config_option config_options[] = {
	{ "data_dir", CONFIG_STRING, S(data_dir), "kunren-data", 0, 0, "KUNREN_DATA",
	  "Folder for the database, the outbox and uploaded files." },
	{ "mode", CONFIG_STRING, S(mode), "all", 0, 0, "KUNREN_MODE",
	  "What `kunren serve` runs: all (console, API, delivery, jobs and tracker), console (all but the "
	  "tracker; needs tracker_url) or tracker (the tracking server only). Several nodes on one "
	  "database_url may each run any of them (docs/internals/NODES.md)." },
	{ "node_lease_seconds", CONFIG_INT, S(node_lease_seconds), "30", 3, 3600, "KUNREN_NODE_LEASE_SECONDS",
	  "With several nodes: a node silent for this long loses the mails it claimed (pending again for the "
	  "others; those in the relay's hands become uncertain) and its jobs." },
	{ "database_url", CONFIG_STRING, S(database_url), "", 0, 0, "KUNREN_DATABASE_URL",
	  "PostgreSQL database shared by several Kunren nodes, e.g. postgres://kunren@db.example/kunren "
	  "(libpq URI; its password is better kept in ~/.pgpass). Empty: SQLite in data_dir/kunren.db." },
	{ "console_listen", CONFIG_STRING, S(console_listen), "127.0.0.1:3333", 0, 0, "KUNREN_CONSOLE_LISTEN",
	  "Address of the console and JSON API listener (host:port)." },
	{ "tracker_listen", CONFIG_STRING, S(tracker_listen), "127.0.0.1:8080", 0, 0, "KUNREN_TRACKER_LISTEN",
	  "Address of the tracking server listener (host:port)." },
	{ "tracker_url", CONFIG_STRING, S(tracker_url), "", 0, 0, "KUNREN_TRACKER_URL",
	  "Public base URL of the tracking server, used in mails. Empty: http://<tracker_listen>." },
	{ "console_url", CONFIG_STRING, S(console_url), "", 0, 0, "KUNREN_CONSOLE_URL",
	  "Public base URL of the console. Empty: http://<console_listen>." },
	{ "console_tls_cert", CONFIG_STRING, S(console_tls_cert), "", 0, 0, "KUNREN_CONSOLE_TLS_CERT",
	  "PEM file of the console's TLS certificate (its chain after it). Empty (and console_tls_key empty): "
	  "plain HTTP. Read again on SIGHUP." },
	{ "console_tls_key", CONFIG_STRING, S(console_tls_key), "", 0, 0, "KUNREN_CONSOLE_TLS_KEY",
	  "PEM file of the private key of console_tls_cert (unencrypted). Read again on SIGHUP." },
	{ "tracker_tls_cert", CONFIG_STRING, S(tracker_tls_cert), "", 0, 0, "KUNREN_TRACKER_TLS_CERT",
	  "PEM file of the tracker's TLS certificate (its chain after it). Empty (and tracker_tls_key empty): "
	  "plain HTTP. Read again on SIGHUP." },
	{ "tracker_tls_key", CONFIG_STRING, S(tracker_tls_key), "", 0, 0, "KUNREN_TRACKER_TLS_KEY",
	  "PEM file of the private key of tracker_tls_cert (unencrypted). Read again on SIGHUP." },
	{ "tracker_redirect_listen", CONFIG_STRING, S(tracker_redirect_listen), "", 0, 0,
	  "KUNREN_TRACKER_REDIRECT_LISTEN",
	  "Address (host:port) of a plain-HTTP listener that redirects every request to the https tracker_url "
	  "(its scheme and host, the request's own path and query) and records nothing; needs an https "
	  "tracker_url. Empty: none." },
	{ "smtp_url", CONFIG_STRING, S(smtp_url), "", 0, 0, "KUNREN_SMTP_URL",
	  "SMTP relay, e.g. smtp://127.0.0.1:25 or smtps://relay:465. Empty: write .eml files to the outbox." },
	{ "smtp_user", CONFIG_STRING, S(smtp_user), "", 0, 0, "KUNREN_SMTP_USER",
	  "User name for SMTP AUTH (empty: no AUTH)." },
	{ "smtp_password", CONFIG_STRING, S(smtp_password), "", 0, 0, "KUNREN_SMTP_PASSWORD",
	  "Password for SMTP AUTH." },
	{ "smtp_verify_tls", CONFIG_BOOL, S(smtp_verify_tls), "true", 0, 1, "KUNREN_SMTP_VERIFY_TLS",
	  "Verify the relay's TLS certificate." },
	{ "helo_name", CONFIG_STRING, S(helo_name), "", 0, 0, "KUNREN_HELO_NAME",
	  "Name given in EHLO and in Message-IDs. Empty: the host name." },
	{ "notice_from", CONFIG_STRING, S(notice_from), "", 0, 0, "KUNREN_NOTICE_FROM",
	  "From address of Kunren's own mail (login codes, login notices, password resets). Empty: kunren@<helo_name>." },
	{ "web_dir", CONFIG_STRING, S(web_dir), "", 0, 0, "KUNREN_WEB_DIR",
	  "Serve the console from this folder instead of the copy built into the binary." },
	{ "time_zone", CONFIG_STRING, S(time_zone), "Asia/Tokyo", 0, 0, "KUNREN_TIME_ZONE",
	  "IANA time zone given to new tenants." },
	{ "http_threads", CONFIG_INT, S(http_threads), "8", 1, 256, "KUNREN_HTTP_THREADS",
	  "Worker threads per listener." },
	{ "max_body_bytes", CONFIG_INT, S(max_body_bytes), "1048576", 1024, 1 << 30, "KUNREN_MAX_BODY_BYTES",
	  "Largest request body accepted by the API (bytes); list imports take up to 64 MiB." },
	{ "session_idle_minutes", CONFIG_INT, S(session_idle_minutes), "60", 1, 100000, "KUNREN_SESSION_IDLE_MINUTES",
	  "A console session ends after this many minutes without a request." },
	{ "session_max_hours", CONFIG_INT, S(session_max_hours), "12", 1, 10000, "KUNREN_SESSION_MAX_HOURS",
	  "A console session ends this many hours after login, whatever happens." },
	{ "login_max_failures", CONFIG_INT, S(login_max_failures), "5", 1, 1000, "KUNREN_LOGIN_MAX_FAILURES",
	  "Failed passwords or codes in a row before an account is locked." },
	{ "login_lock_minutes", CONFIG_INT, S(login_lock_minutes), "15", 1, 100000, "KUNREN_LOGIN_LOCK_MINUTES",
	  "How long a locked account stays locked (the password is not checked meanwhile)." },
	{ "login_ip_max_failures", CONFIG_INT, S(login_ip_max_failures), "20", 1, 100000, "KUNREN_LOGIN_IP_MAX_FAILURES",
	  "Failed logins from one client address within login_ip_window_minutes before it is throttled (429)." },
	{ "login_ip_window_minutes", CONFIG_INT, S(login_ip_window_minutes), "15", 1, 100000,
	  "KUNREN_LOGIN_IP_WINDOW_MINUTES", "The window of login_ip_max_failures." },
	{ "clock_offset_seconds", CONFIG_INT, S(clock_offset_seconds), "0", -1000000000, 1000000000,
	  "KUNREN_CLOCK_OFFSET_SECONDS",
	  "For tests only: added to the clock of the tenant-deletion job (nothing else). Leave at 0." },
	{ "delivery_batch", CONFIG_INT, S(delivery_batch), "20", 1, 10000, "KUNREN_DELIVERY_BATCH",
	  "Targets a sending worker claims in one go." },
	{ "smtp_connections", CONFIG_INT, S(smtp_connections), "4", 1, 64, "KUNREN_SMTP_CONNECTIONS",
	  "Connections (worker threads) to smtp_url, or writers of the outbox." },
	{ "smtp_per_connection", CONFIG_INT, S(smtp_per_connection), "100", 1, 100000, "KUNREN_SMTP_PER_CONNECTION",
	  "Mails sent over one SMTP connection before it is closed and opened again." },
	{ "smtp_retries", CONFIG_INT, S(smtp_retries), "5", 0, 50, "KUNREN_SMTP_RETRIES",
	  "Retries of a mail the relay refused for now (4xx, connection trouble) before it is 送信エラー." },
	{ "smtp_retry_seconds", CONFIG_INT, S(smtp_retry_seconds), "60", 1, 86400, "KUNREN_SMTP_RETRY_SECONDS",
	  "First retry delay; each further retry waits twice as long (at most an hour)." },
	{ "uap_regexes", CONFIG_STRING, S(uap_regexes), "/usr/share/uap-core/regexes.yaml", 0, 0,
	  "KUNREN_UAP_REGEXES",
	  "uap-core's regexes.yaml, which names the OS, browser and device of a user agent in events." },
	{ "trusted_proxies", CONFIG_STRING, S(trusted_proxies), "", 0, 0, "KUNREN_TRUSTED_PROXIES",
	  "Reverse proxies in front of the tracker (comma-separated IPv4/IPv6 addresses or CIDR ranges): only "
	  "from these is X-Forwarded-For believed, its right-most untrusted address being the client. Empty: none." },
	{ "tracker_timeout_seconds", CONFIG_INT, S(tracker_timeout_seconds), "15", 1, 3600,
	  "KUNREN_TRACKER_TIMEOUT_SECONDS",
	  "The tracker closes a connection idle (or sending too slowly) for this many seconds." },
	{ "report_poll_seconds", CONFIG_INT, S(report_poll_seconds), "60", 1, 86400, "KUNREN_REPORT_POLL_SECONDS",
	  "How often each tenant's report mailbox is read over IMAP for reported drill mails (報告)." },
	{ "report_imap_allow_plain", CONFIG_BOOL, S(report_imap_allow_plain), "false", 0, 1,
	  "KUNREN_REPORT_IMAP_ALLOW_PLAIN",
	  "Whether tenants may set a report mailbox with security none (password and mail in clear)." },
	{ "report_imap_allow_private", CONFIG_BOOL, S(report_imap_allow_private), "false", 0, 1,
	  "KUNREN_REPORT_IMAP_ALLOW_PRIVATE",
	  "Whether report mailboxes may be on loopback, private or link-local addresses (this server's "
	  "own network). Off: a tenant's settings cannot make the server connect there." },
	/* webhooks (part 5) */
	{ "webhook_allow_private", CONFIG_BOOL, S(webhook_allow_private), "false", 0, 1,
	  "KUNREN_WEBHOOK_ALLOW_PRIVATE",
	  "Whether webhook URLs may reach loopback, private or link-local addresses (this server's own "
	  "network). Off: checked on every connection, after the name is resolved." },
	{ "webhook_timeout_seconds", CONFIG_INT, S(webhook_timeout_seconds), "10", 1, 120,
	  "KUNREN_WEBHOOK_TIMEOUT_SECONDS", "How long one webhook delivery attempt may take." },
	{ "webhook_retry_seconds", CONFIG_INT, S(webhook_retry_seconds), "30", 1, 86400,
	  "KUNREN_WEBHOOK_RETRY_SECONDS",
	  "The first retry of a failed webhook delivery comes about this long after it; each next one "
	  "waits twice as long (with jitter, at most an hour)." },
	{ "webhook_max_attempts", CONFIG_INT, S(webhook_max_attempts), "10", 1, 50,
	  "KUNREN_WEBHOOK_MAX_ATTEMPTS", "Attempts of one webhook delivery before it is given up (failed)." },
	{ "log_level", CONFIG_STRING, S(log_level), "info", 0, 0, "KUNREN_LOG_LEVEL",
	  "debug, info, warn or error." },
	{ "log_format", CONFIG_STRING, S(log_format), "logfmt", 0, 0, "KUNREN_LOG_FORMAT",
	  "logfmt (time=... level=... msg=\"...\") or json (one object per line: time, level, msg)." },
	{ "metrics_token", CONFIG_STRING, S(metrics_token), "", 0, 0, "KUNREN_METRICS_TOKEN",
	  "Bearer token that lets a non-loopback client read GET /metrics (Authorization: Bearer <token>). "
	  "Empty: only loopback clients may." },
};
#undef S
const size_t config_options_count = ARRAY_SIZE(config_options);

static void *field(struct config *c, const struct config_option *o)
{
	return (char *)c + o->offset;
}

static const struct config_option *find(const char *name, size_t len)
{
	for (size_t i = 0; i < config_options_count; i++)
		if (strlen(config_options[i].name) == len &&
		    memcmp(config_options[i].name, name, len) == 0)
			return &config_options[i];
	return NULL;
}

static int set_option(struct config *c, const struct config_option *o, const char *value,
		      char **ret_err)
{
	int64_t v;
	switch (o->type) {
	case CONFIG_STRING: {
		char **p = field(c, o);
		free(*p);
		*p = xstrdup(value);
		return 0;
	}
	case CONFIG_INT:
		if (slice_to_i64(slice_trim(slice_from(value)), o->min, o->max, &v) < 0) {
			if (ret_err)
				*ret_err = xasprintf("%s: expected a whole number from %lld to %lld, got \"%s\"",
							  o->name, (long long)o->min, (long long)o->max, value);
			return -EINVAL;
		}
		*(int64_t *)field(c, o) = v;
		return 0;
	case CONFIG_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1") || !strcmp(value, "on")) {
			*(bool *)field(c, o) = true;
		} else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0") || !strcmp(value, "off")) {
			*(bool *)field(c, o) = false;
		} else {
			if (ret_err)
				*ret_err = xasprintf("%s: expected true or false, got \"%s\"", o->name, value);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < config_options_count; i++) {
		int r = set_option(c, &config_options[i], config_options[i].def, NULL);
		BUG_ON(r < 0);
	}
}

void config_release(struct config *c)
{
	for (size_t i = 0; i < config_options_count; i++)
		if (config_options[i].type == CONFIG_STRING) {
			char **p = field(c, &config_options[i]);
			free(*p);
			*p = NULL;
		}
}

int config_set(struct config *c, const char *name, const char *value, char **ret_err)
{
	const struct config_option *o = find(name, strlen(name));
	if (!o) {
		if (ret_err)
			*ret_err = xasprintf("unknown option \"%s\"", name);
		return -ENOENT;
	}
	return set_option(c, o, value, ret_err);
}

int config_load_file(struct config *c, const char *path, bool optional, char **ret_err)
{
	_cleanup_buf_ struct buf text = BUF_INIT(1 << 20);
	int r = file_read(path, 1 << 20, &text);
	if (r == -ENOENT && optional)
		return 0;
	if (r < 0) {
		*ret_err = xasprintf("%s: %s", path, strerror(-r));
		return r;
	}
	struct slice rest = buf_slice(&text);
	for (int lineno = 1; rest.len; lineno++) {
		struct slice line;
		rest = slice_cut(rest, '\n', &line);
		line = slice_trim(line);
		if (line.len == 0 || line.p[0] == '#')
			continue;
		if (!memchr(line.p, '=', line.len)) {
			*ret_err = xasprintf("%s:%d: expected name = value", path, lineno);
			return -EINVAL;
		}
		struct slice key, value = slice_cut(line, '=', &key);
		key = slice_trim(key);
		value = slice_trim(value);
		if (value.len >= 2 && value.p[0] == '"' && value.p[value.len - 1] == '"')
			value = (struct slice){ value.p + 1, value.len - 2 };
		const struct config_option *o = find(key.p, key.len);
		if (!o) {
			*ret_err = xasprintf("%s:%d: unknown option \"%.*s\"", path, lineno, (int)key.len, key.p);
			return -EINVAL;
		}
		_cleanup_free_ char *v = xstrndup(value.p, value.len);
		_cleanup_free_ char *err = NULL;
		if ((r = set_option(c, o, v, &err)) < 0) {
			*ret_err = xasprintf("%s:%d: %s", path, lineno, err ? err : "bad value");
			return r;
		}
	}
	return 0;
}

int config_load_env(struct config *c, char **ret_err)
{
	for (size_t i = 0; i < config_options_count; i++) {
		const char *v = getenv(config_options[i].env);
		_cleanup_free_ char *err = NULL;
		if (!v)
			continue;
		int r = set_option(c, &config_options[i], v, &err);
		if (r < 0) {
			*ret_err = xasprintf("%s: %s", config_options[i].env, err);
			return r;
		}
	}
	return 0;
}

int config_load_flags(struct config *c, int *argc, char **argv, char **ret_err)
{
	int out = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		const struct config_option *o = NULL;
		if (a[0] == '-' && a[1] == '-' && eq)
			o = find(a + 2, (size_t)(eq - a - 2));
		if (!o) {
			argv[out++] = argv[i];
			continue;
		}
		_cleanup_free_ char *err = NULL;
		int r = set_option(c, o, eq + 1, &err);
		if (r < 0) {
			*ret_err = xasprintf("--%s: %s", o->name, err);
			return r;
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}
