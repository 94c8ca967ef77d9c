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

struct tenant {
	int64_t id;
	const char *name, *time_zone;
	int64_t exclusion_seconds, created_at;
};

enum role { ROLE_OPERATOR, ROLE_OWNER, ROLE_FULL, ROLE_READONLY };
const char *role_name(enum role r);
int role_parse(const char *s, enum role *ret);

struct account {
	int64_t id, tenant_id;   /* tenant_id 0 for the operator */
	const char *username, *password_hash, *email;
	enum role role;
};

int store_tenant_create(struct store *s, const char *name, const char *time_zone, int64_t *ret_id);
int store_tenant_get(struct store *s, int64_t id, struct arena *a, struct tenant *ret);

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

/* API keys and sessions are looked up by a hash of the secret; the secret
 * itself is never stored. */
int store_api_key_add(struct store *s, int64_t account_id, const unsigned char hash[STORE_HASH_LEN],
		      const char *label);
int store_api_key_find(struct store *s, const unsigned char hash[STORE_HASH_LEN], int64_t *ret_account_id);

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
};

int store_scenario_create(struct store *s, int64_t tenant_id, const struct scenario_rec *sc, int64_t *ret_id);
int store_scenario_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct scenario_rec *ret);
int store_scenarios(struct store *s, int64_t tenant_id, struct arena *a, struct scenario_rec **ret, size_t *ret_n);
/* Replaces every editable field of a tenant's scenario with sc's. */
int store_scenario_update(struct store *s, int64_t tenant_id, int64_t id, const struct scenario_rec *sc);
/* -EBUSY while a campaign uses it. */
int store_scenario_delete(struct store *s, int64_t tenant_id, int64_t id);

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
};

enum target_state { TARGET_PENDING, TARGET_CLAIMED, TARGET_SENT, TARGET_ERROR };

struct target {
	int64_t id, campaign_id, tenant_id;
	const char *rid;
	struct person p;
	enum target_state state;
	int64_t sent_at;
	const char *error;      /* server reply of a failed send, or NULL */
};

/* Event kinds, in the order of SPEC F1.  The names are the API's. */
enum event_kind {
	EV_CREATED, EV_SENT, EV_SEND_ERROR, EV_OPENED, EV_CLICKED, EV_FILE_OPENED,
	EV_SUBMITTED, EV_REPORTED,
	EV__COUNT
};
const char *event_kind_name(enum event_kind k);

struct event {
	int64_t id, campaign_id, target_id; /* target_id 0: the campaign itself */
	enum event_kind kind;
	int64_t at_ms;
	const char *ip, *user_agent, *os, *browser, *device; /* may be NULL */
	const char *detail;     /* JSON object, e.g. {"fields": ["userid"]}; may be NULL */
};

/* Creates a draft and its 訓練作成 event. */
int store_campaign_create(struct store *s, int64_t tenant_id, const struct campaign *c, int64_t *ret_id);
int store_campaign_get(struct store *s, int64_t tenant_id, int64_t id, struct arena *a, struct campaign *ret);
int store_campaigns(struct store *s, int64_t tenant_id, struct arena *a, struct campaign **ret, size_t *ret_n);
/*
 * Draft -> sending: snapshots the recipients of the campaign's lists into
 * targets (one per address; test targets only when test_only), each with a
 * fresh rid, all in one transaction.  -EBUSY unless the campaign is a
 * draft; -ENODATA when there is nobody to send to.  *ret_targets: count.
 */
int store_campaign_launch(struct store *s, int64_t tenant_id, int64_t id, int64_t now, int64_t *ret_targets);
/* Moves to `to` only from one of the states in `from` (bit mask of 1 << state). */
int store_campaign_transition(struct store *s, int64_t tenant_id, int64_t id, unsigned from,
			      enum campaign_state to, int64_t now);

/* Delivery: claims up to `limit` pending targets of sending campaigns
 * (they become TARGET_CLAIMED), with their campaign ids. */
int store_targets_claim(struct store *s, size_t limit, struct arena *a, struct target **ret, size_t *ret_n);
/* Claimed targets left over from a crash go back to pending. */
int store_targets_unclaim_all(struct store *s);
/* 1 while a target is still claimed (a cancel takes it back), else 0. */
int store_target_is_claimed(struct store *s, int64_t target_id);
/* Record the outcome of a claimed target's send with its event; -ESTALE when
 * it is no longer claimed (cancelled meanwhile), and nothing is written. */
int store_target_sent(struct store *s, int64_t target_id, int64_t at_ms, const char *message_id);
int store_target_failed(struct store *s, int64_t target_id, int64_t at_ms, const char *error);
/* Sending campaigns with nothing left to send become running. */
int store_campaigns_settle(struct store *s);

/* Tracking: a target by rid, only while its campaign accepts events
 * (sending or running or paused).  -ENOENT otherwise. */
int store_target_by_rid(struct store *s, const char *rid, struct arena *a, struct target *ret);
/* Appends events in one transaction (the event writer's group commit). */
int store_events_add(struct store *s, const struct event *ev, size_t n);

/*
 * How many targets reached each step, in SQL (a dashboard of 100,000
 * targets answers at once), optionally grouped by one person field
 * ("department", ...; NULL: one row with value "").  Reactions within
 * exclusion_seconds of a target's delivery are left out when it is > 0 —
 * the rule of report_event_is_machine, which must agree (a unit test
 * compares them).  Rows come largest group first.
 */
struct store_reach {
	const char *value;
	int64_t targets, errors;
	int64_t reached[EV__COUNT];  /* distinct targets with an event of the kind */
};
int store_campaign_reach(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t exclusion_seconds,
			 const char *group_by, struct arena *a, struct store_reach **ret, size_t *ret_n);

/* Events per bucket of bucket_seconds from origin (unix seconds), machine
 * events left out as above; only buckets with events, in order. */
struct store_bucket {
	int64_t at;
	int64_t n[EV__COUNT];
};
int store_event_histogram(struct store *s, int64_t tenant_id, int64_t campaign_id, int64_t exclusion_seconds,
			  int64_t origin, int64_t bucket_seconds, struct arena *a, struct store_bucket **ret,
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
};

int store_share_create(struct store *s, int64_t tenant_id, int64_t campaign_id,
		       const unsigned char hash[STORE_HASH_LEN], const char *password_hash, int64_t expires_at,
		       int64_t *ret_id);
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

#endif
