/* ticker.c — see ticker.h. */
#include "core/ticker.h"

#include <pthread.h>
#include <time.h>

struct ticker {
	void (*fn)(struct ticker *t, void *arg);
	void *arg;
	int64_t period_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	bool stop;
	pthread_t thread;
};

static void *ticker_main(void *p)
{
	struct ticker *t = p;
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		pthread_mutex_unlock(&t->mu);
		t->fn(t, t->arg);
		pthread_mutex_lock(&t->mu);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		int64_t ns = until.tv_nsec + t->period_ms % 1000 * 1000000;
		until.tv_sec += (time_t)(t->period_ms / 1000 + ns / 1000000000);
		until.tv_nsec = (long)(ns % 1000000000);
		while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int ticker_start(struct ticker **ret, void (*fn)(struct ticker *t, void *arg), void *arg, int64_t period_ms,
		 char **ret_err)
{
	struct ticker *t = xcalloc(1, sizeof(*t));
	*t = (struct ticker){ .fn = fn, .arg = arg, .period_ms = period_ms > 0 ? period_ms : 1000 };
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, &ca);
	pthread_condattr_destroy(&ca);
	*ret = t;
	int e = pthread_create(&t->thread, NULL, ticker_main, t);
	if (e) {
		*ret = NULL;
		*ret_err = xasprintf("cannot start a thread: %s", strerror(e));
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
		free(t);
		return -e;
	}
	return 0;
}

bool ticker_stopping(struct ticker *t)
{
	pthread_mutex_lock(&t->mu);
	bool stop = t->stop;
	pthread_mutex_unlock(&t->mu);
	return stop;
}

void ticker_request_stop(struct ticker *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

void ticker_stop(struct ticker *t)
{
	if (!t)
		return;
	ticker_request_stop(t);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t);
}
