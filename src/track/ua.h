/*
 * ua.h — user-agent parsing with the uap-core rules (regexes.yaml, read
 * with libyaml, matched with PCRE2), shared inside track/ and its tests.
 * See docs/internals/TRACK.md for the rules and the measured pass rates.
 */
#ifndef KUNREN_TRACK_UA_H
#define KUNREN_TRACK_UA_H

#include "core/core.h"

/* What uap-core's test files check: families and version parts ("" when
 * absent; "Other" families as uap-core says).  Longer answers are cut on
 * a UTF-8 character; the sizes hold every answer of uap-core's tests (a
 * device family can be 150 bytes of a user agent). */
struct ua_result {
	char ua_family[128], ua_major[32], ua_minor[32], ua_patch[32];
	char os_family[128], os_major[32], os_minor[32], os_patch[32], os_patch_minor[32];
	char device_family[256], device_brand[64], device_model[256];
};

/* What an event keeps (SPEC F2): "Windows 10", "Chrome 120.0", and the
 * device class "pc", "smartphone", "tablet" or "bot". */
struct ua_info {
	const char *os, *browser, *device;
	bool bot;
};

struct ua_parser;

/* Loads and compiles the rules; NULL and *ret_err (caller frees) on failure.
 * A rule PCRE2 refuses is skipped and counted (ua_parser_stats), not an
 * error: the YAML itself being unreadable or misshapen is. */
struct ua_parser *ua_parser_new(const char *regexes_yaml, char **ret_err);
void ua_parser_free(struct ua_parser *p);

/* The same from text in memory (name is for messages): tests and fuzzing. */
struct ua_parser *ua__parser_from_text(const char *name, const char *text, size_t len, char **ret_err);

struct ua_stats {
	size_t rules[3];           /* compiled: user agent, OS, device rules */
	size_t failed;             /* rules PCRE2 refused (skipped) */
	const char *failures;      /* "line N: why" per failed rule; owned by the parser */
	uint64_t cache_hits, cache_misses;
	uint64_t limit_hits;       /* matches stopped by the PCRE2 match/depth limits */
};
void ua_parser_stats(struct ua_parser *p, struct ua_stats *ret);

/* The full uap-core answer (no cache); thread-safe. */
void ua_parse(struct ua_parser *p, const char *ua, struct ua_result *ret);

/* The event's description of a user agent: os and browser copied into a
 * (NULL for an "Other" family), device a static string; cached (recent
 * answers are kept), thread-safe.  A NULL parser, or a NULL or empty ua,
 * gives all-NULL fields. */
void ua_describe(struct ua_parser *p, const char *ua, struct arena *a, struct ua_info *ret);

#endif
