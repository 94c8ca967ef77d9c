/* log.c — one line per message on stderr: logfmt (time=... level=...
 * msg="...") or, with log_format = json, one JSON object per line
 * ({"time":"...","level":"...","msg":"..."}) for log shippers. */
#include "core/core.h"

#include <pthread.h>
#include <stdatomic.h>

static _Atomic int min_level = LOG_INFO;
static _Atomic int format = LOG_FORMAT_LOGFMT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level)
{
	atomic_store(&min_level, (int)level);
}

void log_set_format(enum log_format f)
{
	atomic_store(&format, (int)f);
}

int log_format_parse(const char *s, enum log_format *ret)
{
	if (!strcmp(s, "logfmt"))
		*ret = LOG_FORMAT_LOGFMT;
	else if (!strcmp(s, "json"))
		*ret = LOG_FORMAT_JSON;
	else
		return -EINVAL;
	return 0;
}

/* Appends one whole line (with its '\n') for a message. */
static int log_line(struct buf *line, enum log_format f, enum log_level level, int64_t ms, struct slice msg)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	struct civil c;
	int r;

	civil_from_unix(ms / 1000, &c);
	if (f == LOG_FORMAT_JSON) {
		/* valid UTF-8 first: a JSON reader must be able to take every line */
		_cleanup_buf_ struct buf text = BUF_INIT(line->max);
		r = buf_put_utf8(&text, msg);
		if (r >= 0)
			r = buf_printf(line, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"level\":\"%s\",\"msg\":",
				       c.year, c.month, c.day, c.hour, c.min, c.sec, (int)(ms % 1000), names[level]);
		if (r >= 0)
			r = buf_put_json_str(line, buf_slice(&text));
		if (r >= 0)
			r = buf_puts(line, "}\n");
		return r;
	}
	r = buf_printf(line, "time=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s msg=", c.year, c.month,
		       c.day, c.hour, c.min, c.sec, (int)(ms % 1000), names[level]);
	if (r >= 0)
		r = buf_put_json_str(line, msg);
	if (r >= 0)
		r = buf_putc(line, '\n');
	return r;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level < atomic_load(&min_level))
		return;
	_cleanup_buf_ struct buf line = BUF_INIT(1 << 17), msg = BUF_INIT(1 << 15);
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);

	if (log_line(&line, (enum log_format)atomic_load(&format), level, now_ms(), buf_slice(&msg)) < 0)
		return;
	pthread_mutex_lock(&log_lock);
	fwrite(line.p, 1, line.len, stderr);
	pthread_mutex_unlock(&log_lock);
}
