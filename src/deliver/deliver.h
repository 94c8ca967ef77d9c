/*
 * deliver — sending a launched campaign: one sender thread claims pending
 * targets in batches, builds each target's own mail (merge fields, the
 * tracked links and the open beacon) and hands it to mail_sender.
 *
 * Scheduling, rates, windows, retries with back-off and multi-node claiming
 * come with SPEC E2–E7; today every launched campaign is sent at once.
 */
#ifndef KUNREN_DELIVER_H
#define KUNREN_DELIVER_H

#include "core/core.h"
#include "mail/mail.h"
#include "store/store.h"

struct deliver_options {
	struct store *store;
	struct mail_sender_options sender;
	const char *tracker_url;   /* without trailing slash */
	const char *id_domain;     /* Message-ID right side */
	size_t batch;
};

struct deliver *deliver_start(const struct deliver_options *o, char **ret_err);
void deliver_stop(struct deliver *d);  /* finishes the mail in hand; NULL is a no-op */
void deliver_wake(struct deliver *d);  /* there may be new work (a launch) */

/* Builds the mail of one target.  sent_at of t is used as the send date. */
int deliver_build_mail(const struct campaign *c, const struct scenario_rec *sc, const struct target *t,
		       const struct tz *zone, const char *tracker_url, const char *id_domain,
		       struct buf *out, char **ret_message_id);

#endif
