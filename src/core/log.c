/* log.c — one logfmt line per message on stderr. */
#include "core/core.h"

#include <pthread.h>

static enum log_level min_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level)
{
	min_level = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	va_list ap;

	if (level < min_level)
		return;
	_cleanup_buf_ struct buf line = BUF_INIT(1 << 16), msg = BUF_INIT(1 << 15);
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);

	struct civil c;
	int64_t ms = now_ms();
	civil_from_unix(ms / 1000, &c);
	buf_printf(&line, "time=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s msg=", c.year, c.month,
		   c.day, c.hour, c.min, c.sec, (int)(ms % 1000), names[level]);
	buf_put_json_str(&line, buf_slice(&msg));
	buf_putc(&line, '\n');
	pthread_mutex_lock(&log_lock);
	fwrite(line.p, 1, line.len, stderr);
	pthread_mutex_unlock(&log_lock);
}
