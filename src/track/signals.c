/*
 * signals.c — machine-event signals judged when an event is recorded (SPEC
 * F6).  Everything here works from the request and a little recent history
 * kept in memory; it never reads the database, so the tracker's hot path
 * stays free of queries.  Memory is bounded: two fixed set-associative
 * tables allocated once (about 11 MB), the least recently used entry of a
 * set making room for a new one.  The rules and their thresholds are in
 * docs/internals/TRACK.md ("Machine events"); the constants below are those.
 */
#include "track/signals.h"

#include <pthread.h>
#include <strings.h>

/* Every link of a mail hit within this many ms is a burst. */
#define BURST_MS 1000
/* Link hits remembered per target: bursts over mails with more links than
 * this are not recognised. */
#define HITS 32
/* One client (IP and user agent) acting for this many distinct targets of a
 * campaign within SHARED_MS is a shared client. */
#define SHARED_TARGETS 10
#define SHARED_MS 10000

#define WAYS 4
#define TARGET_SETS 8192 /* 32,768 targets remembered */
#define CLIENT_SETS 2048 /*  8,192 clients remembered */

struct target_slot {
	int64_t target_id;       /* 0: free */
	int64_t seen_ms;         /* last hit, for eviction */
	int64_t open_ms;         /* last human-looking open, 0: none */
	uint64_t hits[HITS];     /* at_ms << 10 | link number (1..1023), 0: empty */
	unsigned next;           /* ring position in hits */
};

struct client_slot {
	uint64_t key;            /* hash of campaign, IP and user agent; 0: free */
	int64_t campaign_id;
	int64_t seen_ms;
	int64_t target[SHARED_TARGETS], at[SHARED_TARGETS]; /* distinct targets, last hit each */
};

struct track_signals {
	pthread_mutex_t target_lock, client_lock;
	struct target_slot *targets;  /* TARGET_SETS * WAYS */
	struct client_slot *clients;  /* CLIENT_SETS * WAYS */
};

struct track_signals *track_signals_new(void)
{
	struct track_signals *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->target_lock, NULL);
	pthread_mutex_init(&s->client_lock, NULL);
	s->targets = xcalloc((size_t)TARGET_SETS * WAYS, sizeof(*s->targets));
	s->clients = xcalloc((size_t)CLIENT_SETS * WAYS, sizeof(*s->clients));
	return s;
}

void track_signals_free(struct track_signals *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->target_lock);
	pthread_mutex_destroy(&s->client_lock);
	free(s->targets);
	free(s->clients);
	free(s);
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL; /* FNV-1a */
	return h;
}

/* ---- user agents ---- */

/* Substrings (case-insensitive) of the user agents of mail scanners, image
 * proxies, link-preview bots and HTTP libraries.  A person's browser never
 * says any of these (uap-core's "bot" device class, hit->bot_ua, covers
 * many more). */
static const char *const scanner_uas[] = {
	"googleimageproxy", "ggpht.com", "yahoomailproxy", "barracuda", "proofpoint", "mimecast",
	"ms-office", "msoffice", "microsoft office", "microsoftpreview", "skypeuripreview",
	"symantec", "forcepoint", "trendmicro", "trend micro", "sophos", "fireeye", "ironport",
	"zscaler", "bitdefender", "kaspersky", "fortinet", "checkpoint", "cisco",
	"headlesschrome", "phantomjs", "python-", "curl/", "wget/", "go-http-client", "java/",
	"okhttp", "libwww-perl", "apache-httpclient", "node-fetch", "axios/", "httpclient",
	"bot/", "bot;", "spider", "crawler", "slurp", "facebookexternalhit", "whatsapp", "preview",
};

/* Chrome on Windows 7 or older (NT 6.1 and below) stopped at version 109
 * (January 2023); such a client years later is the sandbox browser of
 * Microsoft Safe Links and similar link detonation, not a person. */
static bool old_windows_chrome(const char *ua)
{
	const char *nt = strstr(ua, "Windows NT ");
	const char *chrome = strstr(ua, "Chrome/");
	if (!nt || !chrome || strstr(ua, "Edg"))
		return false;
	int major = 0, minor = 0;
	if (sscanf(nt + 11, "%d.%d", &major, &minor) < 1)
		return false;
	if (major > 6 || (major == 6 && minor > 1))
		return false;
	return strtol(chrome + 7, NULL, 10) < 110;
}

static bool scanner_ua(const struct track_hit *h)
{
	if (h->bot_ua)
		return true;
	const char *ua = h->user_agent;
	/* Every browser sends a user agent; Apple Mail Privacy Protection's
	 * proxy sends exactly "Mozilla/5.0". */
	if (!ua || !ua[0] || !strcmp(ua, "Mozilla/5.0"))
		return true;
	/* Lower case once, then plain strstr: strcasestr over every pattern
	 * was most of the cost of a hit.  The tracker keeps 512 bytes of a
	 * user agent; anything past the buffer is not looked at. */
	char low[520];
	size_t n = 0;
	for (; ua[n] && n < sizeof(low) - 1; n++)
		low[n] = (char)((ua[n] >= 'A' && ua[n] <= 'Z') ? ua[n] + 32 : ua[n]);
	low[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(scanner_uas); i++)
		if (strstr(low, scanner_uas[i]))
			return true;
	return old_windows_chrome(ua);
}

/* ---- links ---- */

/* The click URL's l value: "i.n" is link i of the mail's n visible links
 * (i from 1), "0.n" its hidden link (content_html_track).  False for
 * anything else, which says nothing about links. */
static bool link_parse(const char *l, unsigned *ret_i, unsigned *ret_n)
{
	if (!l)
		return false;
	char *end;
	errno = 0;
	if (l[0] < '0' || l[0] > '9')
		return false;
	unsigned long i = strtoul(l, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	unsigned long n = strtoul(end + 1, &end, 10);
	if (*end || errno || n > 1000 || i > n)
		return false;
	*ret_i = (unsigned)i;
	*ret_n = (unsigned)n;
	return true;
}

/* ---- per target ---- */

/* The slot of a target, made (evicting the least recently seen of its set)
 * when absent; *fresh says so. */
static struct target_slot *target_slot(struct track_signals *s, int64_t id, bool *fresh)
{
	struct target_slot *set = &s->targets[(mix((uint64_t)id) % TARGET_SETS) * WAYS], *old = &set[0];
	for (int w = 0; w < WAYS; w++) {
		if (set[w].target_id == id) {
			*fresh = false;
			return &set[w];
		}
		if (set[w].seen_ms < old->seen_ms)
			old = &set[w];
	}
	memset(old, 0, sizeof(*old));
	old->target_id = id;
	*fresh = true;
	return old;
}

/* After a hit of link i of n at at_ms: were links 1..n all hit within
 * BURST_MS up to now? */
static bool link_burst(struct target_slot *t, unsigned i, unsigned n, int64_t at_ms)
{
	t->hits[t->next] = (uint64_t)at_ms << 10 | i;
	t->next = (t->next + 1) % HITS;
	if (n < 2 || n > HITS)
		return false; /* one link: any click would be "every link" */
	uint64_t seen = 0;
	for (int k = 0; k < HITS; k++) {
		uint64_t x = t->hits[k];
		unsigned link = (unsigned)(x & 1023);
		int64_t at = (int64_t)(x >> 10);
		if (x && link >= 1 && link <= n && at <= at_ms && at_ms - at < BURST_MS)
			seen |= 1ULL << (link - 1);
	}
	return seen == (n == 64 ? ~0ULL : (1ULL << n) - 1);
}

static uint32_t note_target(struct track_signals *s, const struct track_hit *h, uint32_t sig)
{
	uint32_t add = 0;
	unsigned i, n;
	bool fresh, linked = h->kind == EV_CLICKED && link_parse(h->link, &i, &n);

	pthread_mutex_lock(&s->target_lock);
	struct target_slot *t = target_slot(s, h->target_id, &fresh);
	if (h->at_ms > t->seen_ms)
		t->seen_ms = h->at_ms;
	if (!(sig & EVS_PROBES)) {
		if (linked && i == 0)
			add |= EVS_HIDDEN_LINK;
		else if (linked && link_burst(t, i, n, h->at_ms))
			add |= EVS_LINK_BURST;
		if (h->kind == EV_CLICKED && !t->open_ms)
			add |= EVS_NO_OPEN;
		/* a human-looking open: an image or a file opened by no known
		 * machine, the kinds a person's mail client or viewer makes */
		if ((h->kind == EV_OPENED || h->kind == EV_FILE_OPENED) && !(sig & (EVS_SCANNER_UA | EVS_SHARED_IP)))
			t->open_ms = h->at_ms;
	}
	pthread_mutex_unlock(&s->target_lock);
	return add;
}

/* ---- per client ---- */

static bool note_client(struct track_signals *s, const struct track_hit *h)
{
	uint64_t key = hash_str(hash_str(mix((uint64_t)h->campaign_id), h->ip), h->user_agent) | 1;
	bool shared = false;

	pthread_mutex_lock(&s->client_lock);
	struct client_slot *set = &s->clients[(mix(key) % CLIENT_SETS) * WAYS], *c = NULL, *old = &set[0];
	for (int w = 0; w < WAYS && !c; w++) {
		if (set[w].key == key && set[w].campaign_id == h->campaign_id)
			c = &set[w];
		else if (set[w].seen_ms < old->seen_ms)
			old = &set[w];
	}
	if (!c) {
		c = old;
		memset(c, 0, sizeof(*c));
		c->key = key;
		c->campaign_id = h->campaign_id;
	}
	if (h->at_ms > c->seen_ms)
		c->seen_ms = h->at_ms;
	/* distinct targets hit within the window, this one included */
	int distinct = 0, slot = -1, oldest = 0;
	for (int k = 0; k < SHARED_TARGETS; k++) {
		if (c->target[k] == h->target_id)
			slot = k;
		if (c->at[k] < c->at[oldest])
			oldest = k;
		if (c->target[k] && c->target[k] != h->target_id && h->at_ms - c->at[k] < SHARED_MS)
			distinct++;
	}
	distinct++;
	if (slot < 0)
		slot = oldest;
	c->target[slot] = h->target_id;
	c->at[slot] = h->at_ms;
	shared = distinct >= SHARED_TARGETS;
	pthread_mutex_unlock(&s->client_lock);
	return shared;
}

uint32_t track_signals_note(struct track_signals *s, const struct track_hit *h)
{
	uint32_t sig = 0;
	if (h->head)
		sig |= EVS_HEAD;
	if (h->options)
		sig |= EVS_OPTIONS;
	if (scanner_ua(h))
		sig |= EVS_SCANNER_UA;
	if (!h->target_id)
		return sig;
	/* Probes are no client acting for a target: they only get marked. */
	if (!(sig & EVS_PROBES) && h->ip && note_client(s, h))
		sig |= EVS_SHARED_IP;
	return sig | note_target(s, h, sig);
}
