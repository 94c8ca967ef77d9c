/*
 * ua.h — user-agent parsing with the uap-core rules (regexes.yaml, read
 * with libyaml, matched with PCRE2), shared inside track/ and its tests.
 * See docs/internals/TRACK.md for the rules and the measured pass rates.
 */
#ifndef KUNREN_TRACK_UA_H
#define KUNREN_TRACK_UA_H

#include "core/core.h"

/* What uap-core's test files check: families and version parts ("" when
 * absent; "Other" families as uap-core says). */
struct ua_result {
	char ua_family[64], ua_major[32], ua_minor[32], ua_patch[32];
	char os_family[64], os_major[32], os_minor[32], os_patch[32], os_patch_minor[32];
	char device_family[64], device_brand[64], device_model[64];
};

/* What an event keeps (SPEC F2): "Windows 10", "Chrome 120.0", and the
 * device class "pc", "smartphone", "tablet" or "bot". */
struct ua_info {
	const char *os, *browser, *device;
	bool bot;
};

struct ua_parser;

/* Loads and compiles the rules; NULL and *ret_err (caller frees) on failure. */
struct ua_parser *ua_parser_new(const char *regexes_yaml, char **ret_err);
void ua_parser_free(struct ua_parser *p);

/* The full uap-core answer (no cache); thread-safe. */
void ua_parse(struct ua_parser *p, const char *ua, struct ua_result *ret);

/* The event's description of a user agent, strings copied into a; cached
 * (recent answers are kept), thread-safe.  A NULL parser or NULL ua gives
 * all-NULL fields. */
void ua_describe(struct ua_parser *p, const char *ua, struct arena *a, struct ua_info *ret);

#endif
