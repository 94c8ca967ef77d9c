/*
 * import.c — store_import: another tool's history (GoPhish's, read
 * by gophish/import.c) written for one tenant in one transaction, with the
 * times it had there.  Targets and events are written directly, as a
 * finished campaign has them: the campaign never passes through the
 * launch, so no rid is ever live and no send is counted against the
 * licence (they were sent by the other tool).  store_list_replace: the
 * GoPhish API's PUT of a group, all or nothing.
 */
#include "store/db.h"

static int tenant_exists(struct conn *cn, int64_t tenant_id)
{
	_cleanup_stmt_ struct stmt *st = NULL;
	int r = prep(cn, &st, "SELECT 1 FROM tenants WHERE id = ?", I(tenant_id));
	if (r >= 0 && (r = step_row(cn, st)) == 0)
		r = -ENOENT;
	return r < 0 ? r : 0;
}

static int lists_write(struct conn *cn, int64_t tenant_id, struct store_import *im)
{
	_cleanup_stmt_ struct stmt *ins = NULL;
	int r = prep(cn, &ins, "INSERT INTO recipients (list_id, last_name, first_name, email, department, position, "
			       "field1, field2, field3, is_test) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	for (size_t i = 0; r >= 0 && i < im->nlists; i++) {
		struct store_import_list *l = &im->lists[i];
		r = run_insert(cn, &l->ret_id, "INSERT INTO lists (tenant_id, name, created_at) VALUES (?, ?, ?)",
			       I(tenant_id), T(l->name), I(l->created_at));
		for (size_t k = 0; r >= 0 && k < l->nrows; k++) {
			const struct person *p = &l->rows[k];
			stmt_reset(ins);
			bind_int(ins, 1, l->ret_id);
			for (int f = 0; f < PF__COUNT; f++)
				bind_text(ins, f + 2, p->f[f] ? p->f[f] : "");
			bind_int(ins, 10, p->is_test);
			r = step_done(cn, ins);
		}
	}
	return r < 0 ? r : 0;
}

static int scenarios_write(struct conn *cn, int64_t tenant_id, struct store_import *im)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < im->nscenarios; i++) {
		const struct scenario_rec *sc = &im->scenarios[i].sc;
		r = run_insert(cn, &im->scenarios[i].ret_id,
			       "INSERT INTO scenarios (tenant_id, gallery_id, name, description, genre, type, level, "
			       "lang, subject, html, text, sender_name, sender_local, sender_domain, landing_html, "
			       "explain_html, red_flags, created_at, envelope_from, reply_to, headers, attachment, "
			       "education_url) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       I(tenant_id), T(sc->gallery_id), T(sc->name), T(sc->description), T(sc->genre),
			       T(sc->type), T(sc->level), T(sc->lang), T(sc->subject), T(sc->html), T(sc->text),
			       T(sc->sender_name ? sc->sender_name : ""), T(sc->sender_local ? sc->sender_local : ""),
			       T(sc->sender_domain ? sc->sender_domain : ""), T(sc->landing_html), T(sc->explain_html),
			       T(sc->red_flags_json ? sc->red_flags_json : "[]"), I(sc->created_at),
			       T(sc->envelope_from ? sc->envelope_from : ""), T(sc->reply_to ? sc->reply_to : ""),
			       T(sc->headers_json ? sc->headers_json : "[]"), T(sc->attachment_json),
			       T(sc->education_url ? sc->education_url : ""));
	}
	return r;
}

static int profiles_write(struct conn *cn, int64_t tenant_id, struct store_import *im)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < im->nprofiles; i++) {
		const struct sending_profile *p = &im->profiles[i].p;
		r = profile_insert(cn, tenant_id, p, p->created_at, &im->profiles[i].ret_id);
	}
	return r;
}

/* Every last_<kind>_ms and human_<kind>_ms of a campaign's targets from its
 * events: imported events carry no signal, so both are the latest event of
 * the kind (the rules of track.c's LAST_MS_UPDATE for such events). */
#define LAST(k) "last_" k "_ms = coalesce((SELECT max(at_ms) FROM events e WHERE e.campaign_id = targets.campaign_id " \
	"AND e.target_id = targets.id AND e.kind = '" k "'), 0)"
#define REACH_UPDATE "UPDATE targets SET " LAST("sent") ", " LAST("opened") ", " LAST("clicked") ", " \
	LAST("file_opened") ", " LAST("submitted") ", " LAST("reported") " WHERE campaign_id = ?1"
#define HUMAN_UPDATE "UPDATE targets SET human_opened_ms = last_opened_ms, human_clicked_ms = last_clicked_ms, " \
	"human_file_opened_ms = last_file_opened_ms, human_submitted_ms = last_submitted_ms, " \
	"human_reported_ms = last_reported_ms WHERE campaign_id = ?1"

static int campaign_write(struct conn *cn, int64_t tenant_id, const struct store_import *im,
			  struct store_import_campaign *ic, struct stmt *tins, struct stmt *eins, int64_t *ids)
{
	const struct campaign *c = &ic->c;
	int64_t scenario = im->scenarios[ic->scenario - 1].ret_id;
	int64_t profile = ic->profile ? im->profiles[ic->profile - 1].ret_id : 0;
	int r = run_insert(cn, &ic->ret_id,
			   "INSERT INTO campaigns (tenant_id, name, scenario_id, state, sender_name, sender_local, "
			   "sender_domain, test_only, exclusion_seconds, created_at, launched_at, finished_at, schedule, "
			   "start_at, ends_at, profile_id, target_count) VALUES (?,?,?,?,?,?,?,0,?,?,?,?,?,?,?,nullif(?, 0),?)",
			   I(tenant_id), T(c->name), I(scenario), T(campaign_state_name(c->state)), T(c->sender_name),
			   T(c->sender_local), T(c->sender_domain), I(c->exclusion_seconds), I(c->created_at),
			   I(c->launched_at), I(c->finished_at), T(c->schedule_json ? c->schedule_json : "{}"),
			   I(c->start_at), I(c->ends_at), I(profile), I((int64_t)ic->ntargets));
	for (size_t k = 0; r >= 0 && k < ic->ntargets; k++) {
		const struct store_import_target *t = &ic->targets[k];
		char rid[RID_LEN + 1];
		id_random(rid, RID_LEN);
		stmt_reset(tins);
		bind_int(tins, 1, ic->ret_id);
		bind_text(tins, 2, rid);
		for (int f = 0; f < PF__COUNT; f++)
			bind_text(tins, f + 3, t->p.f[f] ? t->p.f[f] : "");
		bind_int(tins, 11, t->p.is_test);
		bind_text(tins, 12, target_state_name(t->state));
		bind_int(tins, 13, t->sent_at);
		if (t->error)
			bind_text(tins, 14, t->error);
		if ((r = step_row(cn, tins)) > 0) {
			ids[k] = col_int(tins, 0);
			r = step_done(cn, tins); /* to its end: no statement in progress at COMMIT */
		} else if (r == 0) {
			r = -EIO;
		}
	}
	for (size_t k = 0; r >= 0 && k < ic->nevents; k++) {
		const struct store_import_event *e = &ic->events[k];
		const char *texts[] = { e->ip, e->user_agent, e->detail };
		stmt_reset(eins);
		bind_int(eins, 1, ic->ret_id);
		if (e->target)
			bind_int(eins, 2, ids[e->target - 1]);
		bind_text(eins, 3, event_kind_name(e->kind));
		bind_int(eins, 4, e->at_ms);
		for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
			if (texts[i])
				bind_text(eins, (int)i + 5, texts[i]);
		r = step_done(cn, eins);
	}
	if (r >= 0)
		r = run(cn, REACH_UPDATE, I(ic->ret_id));
	if (r >= 0)
		r = run(cn, HUMAN_UPDATE, I(ic->ret_id));
	return r;
}

static bool indexes_ok(const struct store_import *im)
{
	for (size_t i = 0; i < im->ncampaigns; i++) {
		const struct store_import_campaign *c = &im->campaigns[i];
		if (!c->scenario || c->scenario > im->nscenarios || c->profile > im->nprofiles)
			return false;
		for (size_t k = 0; k < c->nevents; k++)
			if (c->events[k].target > c->ntargets || (unsigned)c->events[k].kind >= EV__COUNT)
				return false;
		for (size_t k = 0; k < c->ntargets; k++)
			if (c->targets[k].state != TARGET_SENT && c->targets[k].state != TARGET_ERROR &&
			    c->targets[k].state != TARGET_CANCELLED)
				return false;
	}
	return true;
}

int store_import(struct store *s, int64_t tenant_id, struct store_import *im)
{
	if (!indexes_ok(im))
		return -EINVAL;
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *tins = NULL, *eins = NULL;
	size_t most = 0;
	for (size_t i = 0; i < im->ncampaigns; i++)
		most = im->campaigns[i].ntargets > most ? im->campaigns[i].ntargets : most;
	_cleanup_free_ int64_t *ids = xmalloc((most ? most : 1) * sizeof(*ids));
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	if ((r = tenant_exists(&cn, tenant_id)) >= 0 && (r = lists_write(&cn, tenant_id, im)) >= 0 &&
	    (r = scenarios_write(&cn, tenant_id, im)) >= 0 && (r = profiles_write(&cn, tenant_id, im)) >= 0 &&
	    (r = prep(&cn, &tins, "INSERT INTO targets (campaign_id, rid, " PERSON_COLS ", state, sent_at, error) "
				  "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id")) >= 0)
		r = prep(&cn, &eins, "INSERT INTO events (campaign_id, target_id, kind, at_ms, ip, user_agent, detail) "
				     "VALUES (?, ?, ?, ?, ?, ?, ?)");
	for (size_t i = 0; r >= 0 && i < im->ncampaigns; i++)
		r = campaign_write(&cn, tenant_id, im, &im->campaigns[i], tins, eins, ids);
	if (r >= 0 && im->audit_detail)
		r = run(&cn, "INSERT INTO audit_log (tenant_id, account_id, at, action, detail) VALUES (?, NULL, ?, ?, ?)",
			I(tenant_id), I(now_unix()), T("import"), T(im->audit_detail));
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	return 0;
}

int store_list_replace(struct store *s, int64_t tenant_id, int64_t list_id, const char *name, const int64_t *gone,
		       size_t ngone, const struct person *rows, size_t n, int64_t *ret_new, int64_t *ret_updated)
{
	_cleanup_conn_ struct conn cn = conn_get(s);
	_cleanup_stmt_ struct stmt *del = NULL;
	int64_t added = 0, updated = 0;
	int r = tx_begin(&cn);
	if (r < 0)
		return r;
	r = list_check(&cn, tenant_id, list_id);
	if (r >= 0 && name)
		r = run(&cn, "UPDATE lists SET name = ? WHERE tenant_id = ? AND id = ?", T(name), I(tenant_id),
			I(list_id));
	if (r >= 0)
		r = prep(&cn, &del, "DELETE FROM recipients WHERE list_id = ? AND id = ?");
	for (size_t i = 0; r >= 0 && i < ngone; i++) {
		stmt_reset(del);
		bind_int(del, 1, list_id);
		bind_int(del, 2, gone[i]);
		r = step_done(&cn, del);
	}
	if (r >= 0)
		r = recipients_upsert(&cn, list_id, rows, n, &added, &updated);
	if (r < 0 || (r = tx_commit(&cn)) < 0) {
		tx_rollback(&cn);
		return r;
	}
	*ret_new = added;
	*ret_updated = updated;
	return 0;
}
