/*
 * store — everything Kunren keeps, behind one interface.  The SQLite
 * implementation is sqlite.c (WAL, a small connection pool, numbered
 * migrations embedded from src/store/migrations/); see docs/internals/STORE.md.
 *
 * Rules for every function here:
 * - Tenant data is only ever reached through a tenant id: a row of another
 *   tenant is reported as -ENOENT, exactly like a missing one.
 * - Strings in returned records are allocated in the arena the caller
 *   passes and live as long as it; nothing returned needs freeing otherwise.
 * - Times are unix seconds, except event times (at_ms) in milliseconds.
 * - Returns 0 (or a count) on success, negative errno on failure: -ENOENT
 *   missing, -EEXIST unique clash, -EBUSY wrong state, -EIO database error
 *   (the SQLite message is logged at the module edge).
 */
#ifndef KUNREN_STORE_H
#define KUNREN_STORE_H

#include "core/core.h"

struct store;

int store_open(const char *path, struct store **ret, char **ret_err);
void store_close(struct store *s);
/* Applies the pending migrations in order; *ret_applied counts them. */
int store_migrate(struct store *s, int *ret_applied);
int store_schema_version(struct store *s, int *ret_version);

/* ---- people: the recipient / target record ---- */

/* Same order as the CSV template (SPEC C2) and content's merge fields. */
enum person_field {
	PF_LAST_NAME, PF_FIRST_NAME, PF_EMAIL, PF_DEPARTMENT, PF_POSITION,
	PF_FIELD1, PF_FIELD2, PF_FIELD3,
	PF__COUNT
};
extern const char *const person_field_names[PF__COUNT]; /* "last_name", ... */

struct person {
	const char *f[PF__COUNT]; /* never NULL once read from the store */
	bool is_test;
};

/* ---- tenants and accounts ---- */

#define STORE_HASH_LEN 32 /* BLAKE2b-256 of a session token or API key */

/* SPEC A2: what a tenant bought.  quota 0: unlimited. */
enum licence { LICENCE_SEND_COUNT, LICENCE_ADDRESSES, LICENCE_TRIAL };
const char *licence_name(enum licence l);   /* "send_count", "unique_addresses", "trial" */
int licence_parse(const char *s, enum licence *ret);

struct tenant {
	int64_t id;
	const char *name, *time_zone;
	int64_t exclusion_seconds, created_at;
	enum licence licence;
	int64_t quota;
	int64_t period_start, period_end;  /* the service period; period_end 0: open-ended */
	bool suspended;                    /* no login, no sending; data kept */
	int64_t delete_at;                 /* an earlier deletion the tenant asked for; 0: none */
	int64_t retention_days;            /* 0: kept for the service period */
};

enum role { ROLE_OPERATOR, ROLE_OWNER, ROLE_FULL, ROLE_READONLY };
const char *role_name(enum role r);
int role_parse(const char *s, enum role *ret);

enum second_factor { FACTOR_NONE, FACTOR_MAIL, FACTOR_TOTP };
const char *second_factor_name(enum second_factor f);   /* "none", "mail", "totp" */
int second_factor_parse(const char *s, enum second_factor *ret);

struct account {
	int64_t id, tenant_id;   /* tenant_id 0 for the operator */
	const char *username, *password_hash, *email;
	enum role role;
	enum second_factor second_factor;
	struct slice totp_sealed;        /* the TOTP secret, secret_seal'ed; len 0: none */
	int64_t totp_last_step;          /* the last accepted TOTP time step (no replay) */
	bool login_notify;
	int64_t failures, locked_until, created_at, password_changed_at;
};

int store_tenant_create(struct store *s, const char *name, const char *time_zone, int64_t *ret_id);
int store_tenant_get(struct store *s, int64_t id, struct arena *a, struct tenant *ret);
int store_tenants(struct store *s, struct arena *a, struct tenant **ret, size_t *ret_n);
/* Replaces name, time_zone, licence, quota, period_start, period_end,
 * suspended, delete_at and retention_days. */
int store_tenant_update(struct store *s, const struct tenant *t);
/*
 * Deletes a tenant and every row that belongs to it (accounts, sessions, keys,
 * lists, recipients, scenarios, campaigns, targets, events, share links,
 * profiles, usage, audit entries), in one transaction, and adds a
 * deletion_log row (reason, rows, files_deleted).  *ret_rows: rows deleted.
 */
int store_tenant_purge(struct store *s, int64_t id, const char *reason, int64_t files_deleted, int64_t now,
		       int64_t *ret_rows);
/* Tenants to delete at `now`: the day after period_end has begun (in UTC
 * seconds: now >= period_end + 1 when period_end marks the period's last
 * second), or delete_at <= now. */
int store_tenants_due_deletion(struct store *s, int64_t now, struct arena *a, int64_t **ret_ids, size_t *ret_n);
struct deletion {
	int64_t id, tenant_id;
	const char *tenant_name, *reason;
	int64_t rows, files, at;
};
int store_deletion_log(struct store *s, struct arena *a, struct deletion **ret, size_t *ret_n);
/* Retention (A1): campaigns of tenants with retention_days > 0 that ended
 * (finished or cancelled) more than that many days before `now` are
 * deleted with their targets, events and share links; each one is noted in
 * its tenant's audit log.  *ret_campaigns: how many. */
int store_retention_purge(struct store *s, int64_t now, int64_t *ret_campaigns);
/* Rows of every table that still name the tenant (the proof of a purge). */
int store_tenant_row_count(struct store *s, int64_t tenant_id, int64_t *ret_rows);

/* The first start, in one transaction: a tenant, the "operator" account,
 * the tenant's "demo" owner and its API key.  -EEXIST (and nothing written)
 * when an operator account exists already. */
struct store_bootstrap {
	const char *tenant_name, *time_zone;
	const char *operator_hash, *owner_hash;   /* Argon2id strings */
	unsigned char key_hash[STORE_HASH_LEN];
};
int store_bootstrap(struct store *s, const struct store_bootstrap *b);

int store_account_create(struct store *s, int64_t tenant_id, const char *username,
			 const char *password_hash, enum role role, int64_t *ret_id);
int store_account_get(struct store *s, int64_t id, struct arena *a, struct account *ret);
int store_account_by_username(struct store *s, const char *username, struct arena *a,
			      struct account *ret);
/* The accounts of a tenant (0: the operator's), by id. */
int store_accounts(struct store *s, int64_t tenant_id, struct arena *a, struct account **ret, size_t *ret_n);
/* Replaces email, role, second_factor, totp_sealed (p NULL keeps it),
 * login_notify of an account of the tenant; -ENOENT otherwise. */
int store_account_update(struct store *s, int64_t tenant_id, const struct account *acc);
int store_account_set_password(struct store *s, int64_t id, const char *password_hash, int64_t now);
int store_account_delete(struct store *s, int64_t tenant_id, int64_t id);
/* A failed login: failures + 1; at max_failures the account is locked for
 * lock_seconds (and failures start again).  *ret_locked_until: 0 or when. */
int store_account_failed(struct store *s, int64_t id, int64_t now, int64_t max_failures, int64_t lock_seconds,
			 int64_t *ret_locked_until);
/* A successful login: failures back to 0. */
int store_account_succeeded(struct store *s, int64_t id);
/* Records a used TOTP step; -EALREADY when step <= the last one (a replay). */
int store_account_totp_step(struct store *s, int64_t id, int64_t step);
/* Logout everywhere: every session of the account but keep_session (0: all). */
int store_sessions_delete_account(struct store *s, int64_t account_id, int64_t keep_session);

/* One-time secrets of a login in progress or a password reset: looked up
 * by the hash of the token in the link / form; code_hash (may be empty) is
 * the hash of a mailed code. */
enum challenge_kind { CHALLENGE_LOGIN, CHALLENGE_RESET };
struct challenge {
	int64_t id, account_id;
	enum challenge_kind kind;
	unsigned char code_hash[STORE_HASH_LEN];
	bool has_code;
	int64_t attempts, expires_at;
};
/* Creating one removes the account's earlier ones of the same kind. */
int store_challenge_create(struct store *s, const unsigned char token_hash[STORE_HASH_LEN], int64_t account_id,
			   enum challenge_kind kind, const unsigned char *code_hash, int64_t expires_at);
int store_challenge_find(struct store *s, const unsigned char token_hash[STORE_HASH_LEN], struct challenge *ret);
int store_challenge_attempt(struct store *s, int64_t id);  /* attempts + 1 */
/* -ENOENT when it was gone already: a token is good for one use even when
 * two requests race with it. */
int store_challenge_delete(struct store *s, int64_t id);

/* Failed logins per client address (throttling). */
int store_login_failure_add(struct store *s, const char *ip, int64_t now);
/* Failures from ip since `since`; older rows are pruned on the way. */
int store_login_failures(struct store *s, const char *ip, int64_t since, int64_t *ret_n);

/* API keys and sessions are looked up by a hash of the secret; the secret
 * itself is never stored. */
int store_api_key_add(struct store *s, int64_t account_id, const unsigned char hash[STORE_HASH_LEN],
		      const char *label);
/* *ret_key_id (may be NULL): the key's id. */
int store_api_key_find(struct store *s, const unsigned char hash[STORE_HASH_LEN], int64_t *ret_account_id,
		       int64_t *ret_key_id);

struct session {
	int64_t id, account_id, created_at, last_seen_at;
	const char *csrf_token;
};
int store_session_create(struct store *s, const unsigned char hash[STORE_HASH_LEN],
			 int64_t account_id, const char *csrf_token, int64_t now);
int store_session_find(struct store *s, const unsigned char hash[STORE_HASH_LEN], struct arena *a,
		       struct session *ret);
int store_session_touch(struct store *s, int64_t session_id, int64_t now);
int store_session_delete(struct store *s, int64_t session_id);

int store_audit_add(struct store *s, int64_t tenant_id, int64_t account_id, const char *action,
		    const char *detail);
struct audit_entry {
	int64_t id, tenant_id, account_id;
	const char *username;   /* "" when the account is gone */
	const char *action, *detail;
	int64_t at;
	const char *tenant_name; /* "" for the operator's own entries or a deleted tenant */
};
/* Newest first: entries of a tenant (tenant_id -1: every entry, for the
 * operator) with id < before (0: from the newest), at most limit. */
int store_audit(struct store *s, int64_t tenant_id, int64_t before, size_t limit, struct arena *a,
		struct audit_entry **ret, size_t *ret_n);

struct api_key_info {
	int64_t id, account_id;
	const char *label;
	int64_t created_at, last_used_at;
};
int store_api_keys(struct store *s, int64_t account_id, struct arena *a, struct api_key_info **ret, size_t *ret_n);
int store_api_key_delete(struct store *s, int64_t account_id, int64_t id);

/* ---- the deployment (operator) ---- */

struct branding {
	const char *service_name, *primary_color, *support_contact;
	struct slice logo;          /* PNG/SVG bytes; len 0: none */
	const char *logo_type;      /* "image/png", "image/svg+xml" or "" */
};
int store_branding_get(struct store *s, struct arena *a, struct branding *ret);
/* Replaces every field; logo.p NULL keeps the stored logo. */
int store_branding_set(struct store *s, const struct branding *b);

struct training_domain {
	int64_t id;
	const char *domain, *note, *spf, *dkim, *dmarc;  /* states: "ok", "missing", "unknown" */
	int64_t created_at;
};
int store_domains(struct store *s, struct arena *a, struct training_domain **ret, size_t *ret_n);
int store_domain_add(struct store *s, const struct training_domain *d, int64_t *ret_id); /* -EEXIST */
int store_domain_update(struct store *s, const struct training_domain *d);
int store_domain_delete(struct store *s, int64_t id);

/* ---- recipient lists ---- */

struct list_info {
	int64_t id;
	const char *name;
	int64_t recipient_count, test_count, created_at;
};

struct recipient {
	int64_t id, list_id;
	struct person p;
};

int store_list_create(struct store *s, int64_t tenant_id, const char *name, int64_t *ret_id);
int store_list_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct list_info *ret);
int store_lists(struct store *s, int64_t tenant_id, struct arena *a, struct list_info **ret, size_t *ret_n);
int store_list_delete(struct store *s, int64_t tenant_id, int64_t id);
/* Inserts or overwrites (by email) all rows in one transaction; rows hold
 * each address once (people_import_csv sees to it). */
int store_recipients_import(struct store *s, int64_t tenant_id, int64_t list_id,
			    const struct person *rows, size_t n, int64_t *ret_new, int64_t *ret_updated);
/* A page of a list's recipients. */
struct recipient_query {
	const char *q;       /* substring of any text column (ASCII case-insensitive); NULL: all */
	const char *sort;    /* "id" (NULL), a person_field_names entry, or "is_test" */
	bool desc;
	int64_t after;       /* id order only: ids above this */
	size_t offset, limit;
};
/* -EINVAL for an unknown sort column.  *ret_total counts every match. */
int store_recipients(struct store *s, int64_t tenant_id, int64_t list_id, const struct recipient_query *q,
		     struct arena *a, struct recipient **ret, size_t *ret_n, int64_t *ret_total);
int store_recipient_get(struct store *s, int64_t tenant_id, int64_t list_id, int64_t id, struct arena *a,
			struct recipient *ret);
/* -EEXIST when the address is in the list already (add) or taken by another
 * recipient of the list (update); -ENOENT for a list or recipient that is
 * not the tenant's. */
int store_recipient_add(struct store *s, int64_t tenant_id, int64_t list_id, const struct person *p,
			int64_t *ret_id);
int store_recipient_update(struct store *s, int64_t tenant_id, int64_t list_id, int64_t id,
			   const struct person *p);
int store_recipient_delete(struct store *s, int64_t tenant_id, int64_t list_id, int64_t id);
/* Deletes by ids or (ids NULL) by addresses (ASCII case ignored, as mail
 * systems do), n of them, in one transaction; ret_deleted[i] says whether
 * the i-th was there. */
int store_recipients_delete(struct store *s, int64_t tenant_id, int64_t list_id, const int64_t *ids,
			    const char *const *emails, size_t n, bool *ret_deleted);
int store_list_rename(struct store *s, int64_t tenant_id, int64_t id, const char *name);
/* In one transaction (import.c): renames the list (name NULL: kept),
 * deletes the recipients with the ids gone, then inserts or overwrites rows
 * as store_recipients_import does.  Nothing changes on any error. */
int store_list_replace(struct store *s, int64_t tenant_id, int64_t list_id, const char *name, const int64_t *gone,
		       size_t ngone, const struct person *rows, size_t n, int64_t *ret_new, int64_t *ret_updated);

/* ---- scenarios (tenant copies) ---- */

struct scenario_rec {
	int64_t id, tenant_id;
	const char *gallery_id; /* may be NULL */
	const char *name, *description, *genre, *type, *level, *lang;
	const char *subject, *html, *text;
	const char *sender_name, *sender_local, *sender_domain;
	const char *landing_html; /* may be NULL */
	const char *explain_html;
	const char *red_flags_json; /* JSON array of {"part", "text"} */
	int64_t created_at;
	const char *envelope_from;  /* SMTP MAIL FROM; "": the From address */
	const char *reply_to;       /* "": none */
	const char *headers_json;   /* JSON array of {"name", "value"}: extra headers */
	const char *attachment_json; /* the attachment declaration, or NULL */
	const char *education_url;   /* "": the 種明かし page; else targets are sent there */
};

int store_scenario_create(struct store *s, int64_t tenant_id, const struct scenario_rec *sc, int64_t *ret_id);
int store_scenario_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct scenario_rec *ret);
int store_scenarios(struct store *s, int64_t tenant_id, struct arena *a, struct scenario_rec **ret, size_t *ret_n);
/* Replaces every editable field of a tenant's scenario with sc's. */
int store_scenario_update(struct store *s, int64_t tenant_id, int64_t id, const struct scenario_rec *sc);
/* -EBUSY while a campaign uses it. */
int store_scenario_delete(struct store *s, int64_t tenant_id, int64_t id);

/* ---- uploads: trainers' own attachment files (uploads.c) ---- */

struct upload {
	int64_t id, tenant_id;
	const char *name;     /* the file name as uploaded */
	const char *kind;     /* "docx", "xlsx" or "pdf" (attach_kind_name) */
	int64_t size;
	const char *sha256;   /* hex */
	struct slice data;    /* the bytes; empty unless asked for */
	int64_t created_at;
};

int store_upload_add(struct store *s, const struct upload *u, int64_t *ret_id);
/* with_data: also the bytes (up to ATTACH_UPLOAD_MAX) into a. */
int store_upload_get(struct store *s, int64_t tenant_id, int64_t id, bool with_data, struct arena *a,
		     struct upload *ret);
/* A tenant's uploads without their bytes, newest first. */
int store_uploads(struct store *s, int64_t tenant_id, struct arena *a, struct upload **ret, size_t *ret_n);
/* -EBUSY while one of the tenant's scenarios names it ("upload": id). */
int store_upload_delete(struct store *s, int64_t tenant_id, int64_t id);

/* ---- campaigns, targets, events ---- */

enum campaign_state {
	CAMPAIGN_DRAFT, CAMPAIGN_SCHEDULED, CAMPAIGN_SENDING, CAMPAIGN_RUNNING,
	CAMPAIGN_FINISHED, CAMPAIGN_CANCELLED, CAMPAIGN_PAUSED,
};
const char *campaign_state_name(enum campaign_state st);

struct campaign {
	int64_t id, tenant_id, scenario_id;
	const char *name, *scenario_name;
	enum campaign_state state;
	const char *sender_name, *sender_local, *sender_domain;
	bool test_only;
	int64_t exclusion_seconds, created_at, launched_at, finished_at;
	int64_t *list_ids;
	size_t nlist_ids;
	const char *schedule_json;  /* deliver/plan.h's form; "{}" for the default */
	int64_t start_at, ends_at;  /* unix seconds; 0: at launch / never */
	int64_t profile_id;         /* sending profile; 0: the server's relay */
	int64_t target_count;       /* fixed at launch */
};

/* A target's delivery: pending (waiting for due_at) -> claimed (taken by a
 * worker) -> sending (handed to the relay) -> sent | error; pending again
 * for a retry.  A target found "sending" after a crash becomes uncertain:
 * nobody knows whether the relay took it, and it is never resent. */
enum target_state {
	TARGET_PENDING, TARGET_CLAIMED, TARGET_SENDING, TARGET_SENT, TARGET_ERROR, TARGET_UNCERTAIN,
	TARGET_CANCELLED,
};
const char *target_state_name(enum target_state st);

struct target {
	int64_t id, campaign_id, tenant_id;
	const char *rid;
	struct person p;
	enum target_state state;
	int64_t sent_at;
	const char *error;      /* server reply of a failed send (or of the last retry), or NULL */
	int64_t due_at, attempts;
};

/* Event kinds, in the order of SPEC F1.  The names are the API's. */
enum event_kind {
	EV_CREATED, EV_SENT, EV_SEND_ERROR, EV_OPENED, EV_CLICKED, EV_FILE_OPENED,
	EV_SUBMITTED, EV_REPORTED,
	EV__COUNT
};
const char *event_kind_name(enum event_kind k);

/*
 * Signals stored with an event when it is recorded (SPEC F6): why it may be
 * a machine's.  Probes (HEAD, OPTIONS) never count as a person's action,
 * whatever the exclusion setting; the other signals make the event a
 * machine event when machine events are excluded.  The seconds rule is not
 * stored: it is applied when results are read.  Bit values are stored in
 * events.signals: append, never renumber.
 */
enum event_signal {
	EVS_HEAD = 1u << 0,        /* probe: a HEAD request */
	EVS_OPTIONS = 1u << 1,     /* probe: an OPTIONS request (LibreOffice sends one before GET) */
	EVS_SCANNER_UA = 1u << 2,  /* a known scanner, proxy or bot user agent */
	EVS_HIDDEN_LINK = 1u << 3, /* the hidden link of the mail, which no person can see */
	EVS_LINK_BURST = 1u << 4,  /* every link of the mail hit within a second */
	EVS_SHARED_IP = 1u << 5,   /* the client IP acted for many targets */
	EVS_NO_OPEN = 1u << 6,     /* a click with no human-looking open before it */
};
#define EVS_PROBES (EVS_HEAD | EVS_OPTIONS)
/* A link burst: every link of a mail hit within this many ms (the tracker's
 * signals.c, report_settle_signals and the SQL of store_campaign_reach). */
#define EVS_BURST_MS 1000

struct event {
	int64_t id, campaign_id, target_id; /* target_id 0: the campaign itself */
	enum event_kind kind;
	int64_t at_ms;
	const char *ip, *user_agent, *os, *browser, *device; /* may be NULL */
	const char *detail;     /* JSON object, e.g. {"fields": ["userid"]}; may be NULL */
	uint32_t signals;       /* enum event_signal bits */
};

/* Creates a draft and its 訓練作成 event. */
int store_campaign_create(struct store *s, int64_t tenant_id, const struct campaign *c, int64_t *ret_id);
int store_campaign_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct campaign *ret);
int store_campaigns(struct store *s, int64_t tenant_id, struct arena *a, struct campaign **ret, size_t *ret_n);

/* A planner: due[i] for the i-th of n targets (emails in target id order).
 * Called inside the store's transaction; returns 0 or a negative errno that
 * rolls everything back. */
typedef int (*store_plan_fn)(void *ctx, size_t n, const char *const *emails, int64_t *due);
/* The plainest plan: everyone due at once (ctx unused). */
int store_plan_at_once(void *ctx, size_t n, const char *const *emails, int64_t *due);

/*
 * Draft -> scheduled: snapshots the recipients of the campaign's lists into
 * targets (one per address; test targets only when test_only), each with a
 * fresh rid, plans their send times with `plan`, all in one transaction.
 * The delivery engine moves it on to sending at start_at.  -EBUSY unless
 * the campaign is a draft; -ENODATA when there is nobody to send to;
 * -E2BIG when test_only and more than max_test targets, or a trial tenant's
 * campaign has more than 10; -EDQUOT when the tenant's licence does not
 * cover the counted sends (or new addresses), with *ret_licence (may be
 * NULL) saying what is needed and what remains; -EPERM for a suspended
 * tenant or one past its service period.  *ret_targets: count.
 */
struct licence_check {
	int64_t need, remain;   /* counted sends / new addresses this launch needs, and what is left */
};
int store_campaign_launch(struct store *s, int64_t tenant_id, int64_t id, int64_t now, size_t max_test,
			  store_plan_fn plan, void *ctx, int64_t *ret_targets, struct licence_check *ret_licence);
/*
 * Edits a campaign (SPEC E5): name, sender, schedule_json, start_at,
 * ends_at, profile_id, list_ids and exclusion_seconds of c replace the
 * stored ones.  Once launched (scheduled, sending, paused, running), the
 * pending targets follow: recipients new to the lists become targets,
 * pending targets no longer in them are removed, and every pending target
 * is planned again with `plan` (may be NULL for a draft).  What was sent
 * stays as it was.  -EBUSY for a finished or cancelled campaign; -ENOENT
 * for a list or profile that is not the tenant's.
 */
int store_campaign_update(struct store *s, int64_t tenant_id, int64_t id, const struct campaign *c,
			  store_plan_fn plan, void *ctx);
/* Moves to `to` only from one of the states in `from` (bit mask of 1 << state).
 * Pausing remembers the state to resume into; to == CAMPAIGN_SENDING from
 * paused resumes into it (and plans the pending targets again from now with
 * `plan`, which may be NULL otherwise); a cancel marks every target not yet
 * handed to the relay cancelled. */
int store_campaign_transition(struct store *s, int64_t tenant_id, int64_t id, unsigned from,
			      enum campaign_state to, int64_t now, store_plan_fn plan, void *ctx);

/* ---- delivery ---- */

/* The campaign clock: scheduled campaigns whose start has come become
 * sending; sending ones with nothing left to send become running; every
 * campaign past its training period (ends_at) becomes finished.  Returns the
 * number of campaigns changed. */
int store_campaigns_tick(struct store *s, int64_t now);
/* Sending profiles with due targets (0 for the server's relay). */
int store_delivery_outlook(struct store *s, int64_t now, struct arena *a, int64_t **ret_profiles,
			   size_t *ret_n);
/* Claims up to `limit` pending targets due by `now` of sending campaigns
 * using profile_id (0: the server's relay), earliest due first; they become
 * claimed. */
int store_targets_claim(struct store *s, int64_t profile_id, int64_t now, size_t limit, struct arena *a,
			struct target **ret, size_t *ret_n);
/* The delivery work of nodes gone silent (not seen for lease_ms by the
 * database's clock; docs/internals/NODES.md): their claimed targets go back
 * to pending, their targets found sending become uncertain (with a
 * send_error event saying so), their node rows and job leases go.  One
 * server alone (SQLite) passes 0 at its start: every other node is gone.
 * restarted: this node (store_set_node) has just started, so the work still
 * under its id is its earlier run's, gone too. */
int store_targets_recover(struct store *s, int64_t lease_ms, bool restarted, int64_t *ret_requeued,
			  int64_t *ret_uncertain);
/* Right before handing a claimed target to the relay: claimed -> sending,
 * committed.  0 when its campaign is no longer sending — the target is
 * then pending again (paused) or already cancelled — and it must not go.
 * The licence is enforced here again (SPEC A3): a counted send beyond the
 * tenant's quota makes the target 送信エラー ("licence: ...", with its
 * event) and returns -EDQUOT; a suspended tenant's target goes back to
 * pending and 0 is returned. */
int store_target_begin(struct store *s, int64_t target_id);
/* A claimed target not sent after all (shutdown): back to pending. */
int store_target_release(struct store *s, int64_t target_id);
/*
 * Outcomes of a target being sent, each with its event, in one transaction;
 * -ESTALE when the target is not sending (nothing written).  A counted send
 * (not a test target, not a test_only campaign, campaign of more than 10
 * targets) adds to the tenant's usage for its current period.
 */
int store_target_sent(struct store *s, int64_t target_id, int64_t at_ms, const char *message_id);
int store_target_failed(struct store *s, int64_t target_id, int64_t at_ms, const char *error);
/* A transient failure: pending again, due at due_at, attempts + 1. */
int store_target_retry(struct store *s, int64_t target_id, int64_t due_at, const char *error);

/* The same steps, many in one transaction (the delivery workers' group
 * commit): each op's result is what its function above returns; the
 * call fails (every result set to the error, nothing written) only on a
 * database error. */
enum store_op_kind { STORE_OP_BEGIN, STORE_OP_SENT, STORE_OP_FAILED, STORE_OP_RETRY };
struct store_delivery_op {
	enum store_op_kind kind;
	int64_t target_id, at_ms, due_at;
	const char *text;    /* message id, or the relay's reply */
	int result;
};
int store_delivery_apply(struct store *s, struct store_delivery_op *ops, size_t n);

/* How many of a campaign's targets are in each delivery state, and the
 * next planned send (0: none pending). */
struct delivery_counts {
	int64_t n[TARGET_CANCELLED + 1];
	int64_t retrying;   /* pending after at least one refusal */
	int64_t next_due;
};
int store_campaign_delivery(struct store *s, int64_t tenant_id, int64_t id, struct delivery_counts *ret);
/* The send times of a campaign: when each sent target went, when each
 * pending one is planned (sent[i] tells which), in time order. */
int store_campaign_times(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, int64_t **ret_at,
			 bool **ret_sent, size_t *ret_n);
/* The addresses a launch of these lists would reach (one per address; test
 * targets only when test_only), in target order — for a plan preview. */
int store_lists_emails(struct store *s, int64_t tenant_id, const int64_t *list_ids, size_t nlists, bool test_only,
		       struct arena *a, const char ***ret, size_t *ret_n);

/* What a tenant used in its current service period (licence hooks). */
struct usage {
	int64_t period_start, sends, addresses;
};
int store_usage_get(struct store *s, int64_t tenant_id, struct usage *ret);

/* ---- sending profiles and DKIM keys ---- */

enum smtp_security { SMTP_SECURITY_NONE, SMTP_SECURITY_STARTTLS, SMTP_SECURITY_TLS };
const char *smtp_security_name(enum smtp_security sec);
int smtp_security_parse(const char *s, enum smtp_security *ret);

struct sending_profile {
	int64_t id, tenant_id;      /* tenant_id 0: the operator's, offered to every tenant */
	const char *name, *host;
	int64_t port;
	enum smtp_security security;
	bool verify_tls;
	const char *username;
	struct slice password_sealed; /* secret_seal'ed; len 0: none */
	const char *helo;
	int64_t connections, per_connection, created_at;
	/* the default sender, "Name <local@domain>" or "local@domain"; "" (or
	 * NULL when written): none */
	const char *from_address;
};

/* tenant_id 0 manages the operator's profiles.  A tenant reads its own and
 * the operator's, and writes only its own (-ENOENT otherwise). */
int store_profile_create(struct store *s, const struct sending_profile *p, int64_t *ret_id);
int store_profile_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct sending_profile *ret);
/* Any profile by id, for the delivery engine. */
int store_profile_load(struct store *s, int64_t id, struct arena *a, struct sending_profile *ret);
int store_profiles(struct store *s, int64_t tenant_id, struct arena *a, struct sending_profile **ret, size_t *ret_n);
/* Replaces every field but id, tenant_id and created_at; a password_sealed
 * with p == NULL keeps the stored password. */
int store_profile_update(struct store *s, int64_t tenant_id, int64_t id, const struct sending_profile *p);
/* -EBUSY while a campaign that is not over uses it. */
int store_profile_delete(struct store *s, int64_t tenant_id, int64_t id);

struct dkim_key {
	int64_t id;
	const char *domain, *selector, *algorithm;
	struct slice private_sealed;
	const char *dns_txt;
	int64_t created_at;
};
/* One key per domain: -EEXIST when the domain has one. */
int store_dkim_add(struct store *s, const struct dkim_key *k, int64_t *ret_id);
int store_dkim_keys(struct store *s, struct arena *a, struct dkim_key **ret, size_t *ret_n);
/* The key of a sending domain (ASCII case ignored); -ENOENT when none. */
int store_dkim_for_domain(struct store *s, const char *domain, struct arena *a, struct dkim_key *ret);
int store_dkim_delete(struct store *s, int64_t id);

/* Tracking: a target by rid, only while its campaign accepts events
 * (sending or running or paused).  -ENOENT otherwise. */
int store_target_by_rid(struct store *s, const char *rid, struct arena *a, struct target *ret);
/* Appends events in one transaction (the event writer's group commit).
 * An event whose campaign or target no longer exists (deleted since the
 * tracker looked its rid up) is skipped, never a failed batch; a probe
 * (EVS_PROBES) is stored but does not move the target's last_<kind>_ms. */
int store_events_add(struct store *s, const struct event *ev, size_t n);

/* The tracker's rids in memory (rids.c, track/rids.c).  A campaign
 * accepting events (sending, running, paused) with a fingerprint of its
 * targets: targets are only ever added (new ids) or, while pending, removed
 * (target_count changes), so (target_count, max_target_id) changes with
 * every change of its rid set but for the rare exact swap, which the
 * tracker's look-up on a miss covers. */
struct store_rid_campaign {
	int64_t id, tenant_id, target_count, max_target_id;
};
/* Every campaign accepting events, by id; index reads only. */
int store_rid_campaigns(struct store *s, struct arena *a, struct store_rid_campaign **ret, size_t *ret_n);
/* Calls fn for each target of a campaign, in id order (no arena: a million
 * rids are streamed, not copied); a negative return of fn stops and is
 * returned. */
int store_rids_each(struct store *s, int64_t campaign_id, int (*fn)(void *ctx, const char *rid, int64_t target_id),
		    void *ctx);

/*
 * How many targets reached each step, in SQL (a dashboard of 100,000
 * targets answers at once), optionally grouped by one person field
 * ("department", ...; NULL: one row with value "").  Probes never count;
 * when exclude is set, neither do machine events (stored signals, bursts
 * settled, and reactions within exclusion_seconds of a target's delivery
 * when it is > 0) — the rules of report_event_counts, which must agree (a
 * unit test compares them).  Rows come largest group first.
 */
struct store_reach {
	const char *value;
	int64_t targets, errors;
	int64_t reached[EV__COUNT];  /* distinct targets with an event of the kind */
};
int store_campaign_reach(struct store *s, int64_t tenant_id, int64_t campaign_id, bool exclude,
			 int64_t exclusion_seconds, const char *group_by, struct arena *a, struct store_reach **ret, size_t *ret_n);

/* Events per bucket of bucket_seconds from origin (unix seconds), machine
 * events left out as above; only buckets with events, in order. */
struct store_bucket {
	int64_t at;
	int64_t n[EV__COUNT];
};
int store_event_histogram(struct store *s, int64_t tenant_id, int64_t campaign_id, bool exclude,
			  int64_t exclusion_seconds, int64_t origin, int64_t bucket_seconds, struct arena *a, struct store_bucket **ret,
			  size_t *ret_n);

int store_target_get(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t target_id,
		     struct arena *a, struct target *ret);
int store_targets(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t after, size_t limit,
		  struct arena *a, struct target **ret, size_t *ret_n);
/* Events of a campaign whose target id is in [target_min, target_max]
 * (0 is the campaign's own 訓練作成 event; 0, INT64_MAX: all), ordered by
 * target then time. */
int store_events(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t target_min,
		 int64_t target_max, struct arena *a, struct event **ret, size_t *ret_n);
/* The same with kind and times only (ip, user_agent, … and detail NULL). */
int store_event_times(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t target_min,
		      int64_t target_max, struct arena *a, struct event **ret, size_t *ret_n);

/* ---- share links (SPEC G7) ---- */

struct share_link {
	int64_t id, tenant_id, campaign_id;
	const char *password_hash;   /* NULL: no password */
	int64_t created_at, expires_at, access_count, failures, failures_since;
	bool revoked;
	bool exclude;                /* machine events excluded for its viewer (F6) */
};

int store_share_create(struct store *s, int64_t tenant_id, int64_t campaign_id,
		       const unsigned char hash[STORE_HASH_LEN], const char *password_hash, int64_t expires_at,
		       bool exclude, int64_t *ret_id);
int store_shares(struct store *s, int64_t tenant_id, int64_t campaign_id, struct arena *a,
		 struct share_link **ret, size_t *ret_n);
int store_share_revoke(struct store *s, int64_t tenant_id, int64_t id);
/* By the token's hash, whatever its state (the caller checks expiry and revocation). */
int store_share_find(struct store *s, const unsigned char hash[STORE_HASH_LEN], struct arena *a,
		     struct share_link *ret);
/* An opening: ok counts one access; a wrong password counts one failure in
 * the window that started at failures_since (a new window after `window`
 * seconds). */
int store_share_note(struct store *s, int64_t id, bool ok, int64_t now, int64_t window);

/* ---- education material (SPEC D9) ---- */

/* A tenant's own text of one kind ("before", "after") and language ("ja",
 * "en"); strings live in the arena. */
struct education {
	const char *kind, *lang, *title, *body;
	int64_t updated_at;
};
/* -ENOENT when the tenant has not edited it (the caller uses the default). */
int store_education_get(struct store *s, int64_t tenant_id, const char *kind, const char *lang,
			struct arena *a, struct education *ret);
/* Inserts or replaces the tenant's text of e->kind and e->lang. */
int store_education_set(struct store *s, int64_t tenant_id, const struct education *e);

/* ---- 報告: report mailboxes, live events, report figures (reports.c) ---- */

/* A tenant's report mailbox, polled over IMAP (mail/imap.c). */
struct report_mailbox {
	int64_t tenant_id;
	const char *host;
	int64_t port;
	enum smtp_security security;
	bool verify_tls;
	const char *username;
	struct slice password_sealed; /* secret_seal'ed; len 0: none */
	const char *folder;           /* "INBOX" by default */
	bool enabled;
	int64_t last_poll_at;         /* 0: never */
	const char *last_error;       /* "" when the last poll went well */
	int64_t last_reported, last_ignored; /* of the last poll */
	int64_t updated_at;
	int64_t uidvalidity, last_uid; /* the poller's place in the folder (0: from the start) */
};
/* -ENOENT when the tenant has none. */
int store_report_mailbox_get(struct store *s, int64_t tenant_id, struct arena *a, struct report_mailbox *ret);
/* Inserts or replaces m's settings (the poll outcome is cleared); a
 * password_sealed with p == NULL keeps the stored password.  A changed host,
 * port, username or folder starts the poller's place again. */
int store_report_mailbox_set(struct store *s, const struct report_mailbox *m, int64_t now);
int store_report_mailbox_delete(struct store *s, int64_t tenant_id);
/* Every enabled mailbox, for the poller. */
int store_report_mailboxes(struct store *s, struct arena *a, struct report_mailbox **ret, size_t *ret_n);
/* Notes a poll's outcome (error "" or NULL: it went well). */
int store_report_mailbox_polled(struct store *s, int64_t tenant_id, int64_t at, const char *error,
				int64_t reported, int64_t ignored);
/* Notes the poller's place: the folder's UIDVALIDITY and the last UID handled. */
int store_report_mailbox_progress(struct store *s, int64_t tenant_id, int64_t uidvalidity, int64_t last_uid);

/* Events of a campaign with id > after, in id order, at most limit (full
 * records; target_id 0 for the campaign's own). */
int store_events_after(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t after, size_t limit,
		       struct arena *a, struct event **ret, size_t *ret_n);
/* The same for any tenant (the live thread checked the tenant when the
 * stream was opened). */
int store_events_after_any(struct store *s, int64_t campaign_id, int64_t after, size_t limit, struct arena *a,
			   struct event **ret, size_t *ret_n);
/* The newest event id of a campaign (0: none). */
int store_events_last_id(struct store *s, int64_t campaign_id, int64_t *ret_id);

/* 報告 figures of a campaign (SPEC G1, G8): targets the mail reached
 * (a 送信 event), how many of them reported it, and for those the delay
 * from their delivery to their first report, sorted ascending (ms; in a).
 * first_at_ms: the campaign's first report (0: none). */
struct report_figures {
	int64_t sent, reported, first_at_ms;
	int64_t *delays_ms;
	size_t ndelays;
};
int store_campaign_report_figures(struct store *s, int64_t tenant_id, int64_t campaign_id, struct arena *a,
				  struct report_figures *ret);

/* ---- idempotency keys (idempotency.c, migration 0015) ---- */

/* A remembered request: (tenant_id, credential, key) names it. */
struct idempotency_entry {
	int64_t tenant_id;        /* 0: the operator */
	const char *credential;   /* hex HMAC of the session token or API key */
	const char *key;          /* the Idempotency-Key header */
	int64_t account_id;       /* whose credential: its rows go when its role or */
	int64_t api_key_id;       /* password changes, it or that key (0: a session) */
	                          /* is deleted, or its tenant suspended (0015's triggers) */
	const char *fingerprint;  /* hex SHA-256 of method, target and body */
	int64_t owner;            /* non-zero: still running in that process instance */
	int64_t status;           /* the kept answer (owner 0) */
	const char *content_type;
	const char *headers;      /* JSON [[name, value], ...] */
	struct slice body_sealed; /* secret_seal'ed body */
	int64_t created_at;
};
/*
 * Claims e's (tenant_id, credential, key) for a request about to run, in one
 * transaction that first deletes the rows created at or before now - ttl:
 * returns 0 when the row is new (written with e's fingerprint, owner and
 * created_at = now), or 1 with *ret (strings in a) the row already there —
 * still running (owner != 0) or answered.  A row still running under another
 * owner than e->owner is running on another node while that node is alive
 * (1); left by a process that is gone (its node row removed by
 * store_targets_recover), it is taken over as new (0).
 */
int store_idempotency_claim(struct store *s, const struct idempotency_entry *e, int64_t now, int64_t ttl,
			    struct arena *a, struct idempotency_entry *ret);
/* Keeps the answer (status, content_type, headers, body_sealed) of the row
 * e->owner claimed; -ENOENT when it is no longer that owner's. */
int store_idempotency_finish(struct store *s, const struct idempotency_entry *e);
/* Forgets the row e->owner claimed (an answer that is not kept). */
int store_idempotency_release(struct store *s, const struct idempotency_entry *e);
/* Deletes the rows created at or before `before`; *ret_rows (may be NULL). */
int store_idempotency_purge(struct store *s, int64_t before, int64_t *ret_rows);

/* ---- nodes: several `kunren serve` on one database (nodes.c, migration 0018) ---- */

/* This process's node id: targets it claims carry it, and only it may hand
 * them to the relay (store_target_begin).  Set once, before serving. */
void store_set_node(struct store *s, const char *node);
/* The node's heartbeat, on a connection of its own, by the database's
 * clock.  place: host and data folder; token: this process's.  -EADDRINUSE
 * when another process elsewhere, seen within lease_ms, has this node's id
 * (a copied data folder). */
int store_node_beat(struct store *s, const char *place, const char *mode, const char *token, int64_t lease_ms);
/* A clean stop: the node's row and job leases go (its claims were given back). */
int store_node_leave(struct store *s);
/* Every node row (the operator's view), ordered by started_at, id; never the
 * token.  alive: seen within lease_ms; now_ms: the database's clock, so
 * now_ms - seen_ms is how long ago the node was seen. */
struct store_node {
	const char *id, *place, *mode;
	int64_t started_at, seen_ms, now_ms;
	bool alive;
};
int store_nodes(struct store *s, int64_t lease_ms, struct arena *a, struct store_node **ret, size_t *ret_n);
/* The lease of a job that runs on one node at a time: 1 when this node
 * holds it for ttl_ms more (taken free or expired, or renewed), 0 when
 * another node does. */
int store_job_lease(struct store *s, const char *job, int64_t ttl_ms);

/* Moves a SQLite deployment into PostgreSQL (copy.c): both stores migrated
 * to the same version, `to` without tenants or accounts; every table row
 * for row (ids kept, sequences moved past them) in one transaction on `to`
 * that commits only when each table's row count and content checksum agree
 * on both sides.  A line per table goes to out; *ret_err (NULL on entry)
 * says what failed. */
int store_copy(struct store *from, struct store *to, FILE *out, char **ret_err);

/* ---- operations (ops.c; GET /readyz, /metrics) ---- */

/* A cheap query on a real table: 0 when the database answers. */
int store_ping(struct store *s);
/* Mails waiting for the relay now: due pending targets of sending
 * campaigns plus those claimed or in a worker's hands. */
int store_delivery_depth(struct store *s, int64_t now, int64_t *ret);

/* ---- history brought over from another tool (import.c; gophish/) ---- */

/*
 * What store_import writes for one tenant, all or nothing.  Records refer to
 * each other by index (+ 1, 0: none) into the arrays of struct store_import;
 * the ids made are written back into ret_id.  Nothing is checked here but
 * the tenant and the indexes: the caller hands over what the API would
 * accept.  Times are kept as given (created_at of lists, scenarios and
 * profiles; every time of a campaign and its events).
 */
struct store_import_list {
	const char *name;
	int64_t created_at;
	const struct person *rows;   /* each address once */
	size_t nrows;
	int64_t ret_id;
};
struct store_import_scenario {
	struct scenario_rec sc;      /* tenant_id and id ignored */
	int64_t ret_id;
};
struct store_import_profile {
	struct sending_profile p;    /* tenant_id and id ignored: the tenant's own */
	int64_t ret_id;
};
struct store_import_target {
	struct person p;             /* each address once per campaign */
	enum target_state state;     /* TARGET_SENT, TARGET_ERROR or TARGET_CANCELLED */
	int64_t sent_at;             /* unix seconds; 0: never sent */
	const char *error;           /* may be NULL */
};
struct store_import_event {
	size_t target;               /* index + 1 into the campaign's targets; 0: the campaign's own */
	enum event_kind kind;
	int64_t at_ms;
	const char *ip, *user_agent, *detail; /* may be NULL */
};
struct store_import_campaign {
	struct campaign c;           /* name, state, sender_*, exclusion_seconds, created_at,
				      * launched_at, finished_at, start_at, ends_at; ids ignored */
	size_t scenario;             /* index + 1 into scenarios (required) */
	size_t profile;              /* index + 1 into profiles; 0: the server's relay */
	struct store_import_target *targets;
	size_t ntargets;
	struct store_import_event *events;  /* any order; targets' last_<kind>_ms follow them */
	size_t nevents;
	int64_t ret_id;
};
struct store_import {
	struct store_import_list *lists;
	size_t nlists;
	struct store_import_scenario *scenarios;
	size_t nscenarios;
	struct store_import_profile *profiles;
	size_t nprofiles;
	struct store_import_campaign *campaigns;
	size_t ncampaigns;
	const char *audit_detail;    /* the tenant's audit entry "import" (NULL: none) */
};
/* -ENOENT for a tenant that does not exist, -EINVAL for an index out of
 * range, -EEXIST for an address twice in a list or campaign; nothing is
 * written then. */
int store_import(struct store *s, int64_t tenant_id, struct store_import *im);

/* ---- part 8: backup and restore (sqlite_backup.c) ---- */

/* What a database file holds: its schema version and every table's rows
 * (tables sorted by name, in the caller's arena). */
struct store_table_rows {
	const char *table;
	int64_t rows;
};
struct store_snapshot {
	int schema_version;
	struct store_table_rows *tables;
	size_t ntables;
};
/* Copies the database db_path into dest_path (a new file, written as
 * dest_path.tmp, fsynced, renamed) with SQLite's online backup API from one
 * read snapshot, so a server writing meanwhile neither waits nor restarts
 * it; then checks the copy (integrity_check) and fills *ret.  The copy is
 * in rollback-journal mode (one self-contained file).  A PostgreSQL URL
 * as db_path: -ENOTSUP, *ret_err says to use pg_dump.  *ret_err: caller
 * frees. */
int store_backup(const char *db_path, const char *dest_path, struct arena *a, struct store_snapshot *ret,
		 char **ret_err);
/* Opens a database file read-only: -EBADMSG when integrity_check fails or
 * it is not a Kunren database, else *ret. */
int store_check_file(const char *path, struct arena *a, struct store_snapshot *ret, char **ret_err);
/* The newest migration this binary knows. */
int store_schema_latest(void);

/* ---- webhooks (part 5 of issue 11; webhooks.c, migration 0016) ---- */

/* A tenant's endpoint for its events (webhook/). */
struct webhook {
	int64_t id, tenant_id;
	const char *url, *description;
	const char *kinds_json;       /* JSON array of event kind names; "[]": every kind */
	bool enabled;
	struct slice secret_sealed;   /* the signing secret, secret_seal'ed */
	int64_t cursor;               /* the last event id the dispatcher looked at */
	int64_t created_at, updated_at;
};
/* cursor is set to the newest event: a webhook gets what comes after it. */
int store_webhook_create(struct store *s, const struct webhook *w, int64_t *ret_id);
int store_webhook_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct webhook *ret);
/* A tenant's webhooks by id; tenant_id 0: every enabled one (the dispatcher). */
int store_webhooks(struct store *s, int64_t tenant_id, struct arena *a, struct webhook **ret, size_t *ret_n);
/* Replaces url, description, kinds_json, enabled and (p != NULL) the
 * secret.  Enabling a disabled webhook moves its cursor to the newest event. */
int store_webhook_update(struct store *s, int64_t tenant_id, int64_t id, const struct webhook *w, int64_t now);
/* With its delivery log. */
int store_webhook_delete(struct store *s, int64_t tenant_id, int64_t id);
int store_webhook_count(struct store *s, int64_t tenant_id, int64_t *ret_n);
/* The newest event id of all (0: none). */
int store_events_max_id(struct store *s, int64_t *ret_id);
/* A tenant's events with after < id <= upto, in id order (full records);
 * ids are unique, so the range bounds the count. */
int store_events_tenant_range(struct store *s, int64_t tenant_id, int64_t after, int64_t upto, struct arena *a,
			      struct event **ret, size_t *ret_n);

enum webhook_state { WEBHOOK_PENDING, WEBHOOK_DELIVERED, WEBHOOK_FAILED };
const char *webhook_state_name(enum webhook_state st);  /* "pending", "delivered", "failed" */
/* One delivery (an event or a ping) and the outcome of its last attempt. */
struct webhook_delivery {
	int64_t id, webhook_id, tenant_id;
	int64_t event_id;             /* 0: a ping */
	const char *kind;             /* event kind name, or "ping" */
	const char *delivery_id;      /* random, unique: the Kunren-Delivery header */
	const char *payload;          /* the JSON body; NULL in listings */
	enum webhook_state state;
	int64_t attempts, next_at_ms;
	int64_t response_status;      /* 0: no HTTP answer */
	const char *error, *response_excerpt;
	int64_t duration_ms, created_at, last_attempt_at;
};
/* Queues deliveries and moves the webhook's cursor from old_cursor to
 * new_cursor in one transaction; -ESTALE (nothing written) when the cursor
 * is no longer old_cursor or the webhook was disabled or deleted. */
int store_webhook_enqueue(struct store *s, int64_t webhook_id, int64_t old_cursor, int64_t new_cursor,
			  const struct webhook_delivery *d, size_t n);
int store_webhook_delivery_add(struct store *s, const struct webhook_delivery *d, int64_t *ret_id);
/* Pending deliveries of enabled webhooks of tenants not suspended, due by
 * now_ms, soonest first, with payloads; with first_of_each only the
 * soonest one of each webhook (the dispatcher). */
int store_webhook_deliveries_due(struct store *s, int64_t now_ms, bool first_of_each, size_t limit, struct arena *a,
				 struct webhook_delivery **ret, size_t *ret_n);
/* Writes state, attempts, next_at_ms, response_status, error, duration_ms,
 * response_excerpt and last_attempt_at of d->id. */
int store_webhook_delivery_result(struct store *s, const struct webhook_delivery *d);
/* The webhook's pending deliveries due before until_ms, and those queued
 * until then, wait until then (a failure holds the webhook back: one
 * attempt per back-off). */
int store_webhook_postpone(struct store *s, int64_t webhook_id, int64_t until_ms);
/* A webhook's log, newest first, ids below `before` (0: from the newest), no payloads. */
int store_webhook_deliveries(struct store *s, int64_t tenant_id, int64_t webhook_id, int64_t before, size_t limit,
			     struct arena *a, struct webhook_delivery **ret, size_t *ret_n);
int store_webhook_delivery_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a,
			       struct webhook_delivery *ret);
/* Deletes finished deliveries created before `before` (unix seconds). */
int store_webhook_deliveries_prune(struct store *s, int64_t before, int64_t *ret_n);

#endif
