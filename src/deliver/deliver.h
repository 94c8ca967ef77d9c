/*
 * deliver — sending launched campaigns (SPEC E1–E8).
 *
 * A dispatcher thread keeps the campaign clock (scheduled -> sending at the
 * start, running when all is sent, finished at the end of the training
 * period) and wakes one lane per sending profile that has due targets.  A
 * lane has as many worker threads as its profile has connections; each
 * worker claims a few due targets at a time, builds each target's own mail
 * (merge fields, tracked links, open beacon, DKIM signature) and hands it
 * to its own mail_sender, which keeps its SMTP connection open.
 *
 * Every target is claimed, then marked sending (committed) right before the
 * relay sees it, then recorded sent / error / retry: after a kill -9 a
 * restart requeues what was only claimed and marks what was being sent
 * "uncertain" — never sent twice.  See docs/internals/DELIVER.md.
 */
#ifndef KUNREN_DELIVER_H
#define KUNREN_DELIVER_H

#include "core/core.h"
#include "deliver/plan.h"
#include "mail/mail.h"
#include "store/store.h"

struct deliver_options {
	struct store *store;
	struct mail_sender_options sender; /* the server's relay (profile 0) */
	long connections;                  /* workers for the server's relay */
	const struct secret_key *key;      /* opens sealed passwords and DKIM keys */
	const char *tracker_url;           /* without trailing slash */
	const char *id_domain;             /* Message-ID right side */
	size_t batch;                      /* targets a worker claims at a time */
	long retries;                      /* retries of a 4xx before 送信エラー */
	long retry_seconds;                /* first back-off; doubled each time, at most an hour */
	const char *notice_from;           /* From of notices (login codes, resets) */
	/* Several nodes (docs/internals/NODES.md): shared, other nodes may use
	 * the database, so only the claims of nodes silent for lease_seconds
	 * are taken back (else, at the start, every other node's). */
	long lease_seconds;
	bool shared;
};

struct deliver *deliver_start(const struct deliver_options *o, char **ret_err);
/* The first step of a graceful stop: no mail is started any more; each
 * worker finishes and records the mail in hand and gives back the rest of
 * its claimed batch (pending again); returns once they have all ended.
 * Notices still go, deliver_wake stays harmless.  NULL: a no-op. */
void deliver_drain(struct deliver *d);
/* The start of a stop, without waiting: the dispatcher and the workers are
 * told to stop (each worker still finishes and records the mail in hand),
 * and the notice thread finishes the notice in hand but starts no other —
 * queued notices, and any queued from now on, are logged and dropped, so a
 * stop never waits for more than one SMTP transaction per thread.
 * deliver_drain and deliver_stop then wait.  NULL: a no-op. */
void deliver_request_stop(struct deliver *d);
void deliver_stop(struct deliver *d);  /* deliver_drain, then the queued notices; frees d; NULL is a no-op */
void deliver_wake(struct deliver *d);  /* there may be new work (a launch, a resume) */

/* Sends a plain-text notice (a login code, a login notice, a password-reset
 * link) through the server's relay, or into the outbox under "notices/".
 * Synchronous, for low volumes; returns mail_sender_send's codes, or
 * -ECANCELED (logged) once deliver_request_stop was called. */
int deliver_notice(struct deliver *d, const char *to, const char *subject, const char *text);
/* The same, queued for a background thread: returns at once, so the time
 * an answer takes does not depend on whether a mail was sent (password
 * resets must not tell whether an account exists).  Queued notices still
 * go out at deliver_stop, unless deliver_request_stop came first (serve
 * does: -ECANCELED from then on, logged). */
int deliver_notice_later(struct deliver *d, const char *to, const char *subject, const char *text);

/* Builds the mail of one target.  sent_at of t is used as the send date.
 * upload: the bytes of the upload the scenario's attachment names (empty
 * when it names none; -ENOENT when it names one and they are missing). */
int deliver_build_mail(const struct campaign *c, const struct scenario_rec *sc, const struct target *t,
		       const struct tz *zone, const char *tracker_url, const char *id_domain, struct slice upload,
		       struct buf *out, char **ret_message_id);

/* One target's copy of a scenario's attachment (SPEC D5). */
struct merge_vars;
struct deliver_file {
	const char *filename;      /* in the mail ("請求書_山田.docx", "….zip"); NULL: no attachment */
	const char *content_type;
	struct buf data;           /* the caller releases it */
};
/* Fills the declaration's templates with vars, builds the file (or injects
 * the beacon into upload's bytes) with the beacon <tracker>/f/<rid>.png and
 * the link <tracker>/p/<rid>, and wraps it as the archive says (password:
 * vars' {{パスワード}}).  Strings live in a.  A scenario without an
 * attachment gives 0 and filename NULL. */
int deliver_attachment(const struct scenario_rec *sc, const struct merge_vars *vars, const char *tracker_url,
		       const char *rid, struct slice upload, struct arena *a, struct deliver_file *ret);

/* A store_plan_fn: plans with a schedule in a zone at `now`. */
struct deliver_plan {
	const struct schedule *schedule;
	const struct tz *zone;
	int64_t now;
	uint64_t seed;
};
int deliver_plan_targets(void *ctx, size_t n, const char *const *emails, int64_t *due);

/* The sender options of a profile; url and the password live in `a`.
 * password is the opened secret (NULL: none). */
void deliver_profile_options(const struct sending_profile *p, const char *password, struct arena *a,
			     struct mail_sender_options *ret);
/* Sends one built mail (envelope from -> to) through a profile, outside
 * any campaign (GoPhish's send_test_email).  *ret_reply (caller frees)
 * gets the relay's reply or the error. */
int deliver_profile_send(const struct sending_profile *p, const char *password, const char *from, const char *to,
			 struct slice msg, char **ret_reply);
/* Sends one plain test mail through a profile (the console's "send test
 * mail").  *ret_reply (caller frees) gets the relay's reply or the error. */
int deliver_profile_test(const struct sending_profile *p, const char *password, const char *from,
			 const char *to, const char *id_domain, char **ret_reply);

#endif
