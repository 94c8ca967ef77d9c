/*
 * Unit tests for src/mail/smtp.c: outbox mode, and SMTP mode against a tiny
 * SMTP responder forked on 127.0.0.1 that counts connections and keeps what
 * it receives in shared memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/mail.h"

#define MAX_MSGS 16

/* What the responder saw; lives in a MAP_SHARED mapping. */
struct seen {
	int connections;
	int messages;
	char helo[64];
	char from[MAX_MSGS][128], rcpt[MAX_MSGS][128];
	size_t len[MAX_MSGS];
	char data[MAX_MSGS][16384];
};

struct server {
	pid_t pid;
	int port;
	struct seen *seen;
};

/* ---- the responder ---- */

static void say(FILE *out, const char *s)
{
	fputs(s, out);
	fflush(out);
}

/* Copies what is between the first '<' and '>' of line into dst. */
static void angle_copy(char *dst, size_t size, const char *line)
{
	const char *a = strchr(line, '<'), *b = a ? strchr(a, '>') : NULL;
	size_t n = a && b ? (size_t)(b - a - 1) : 0;
	if (n >= size)
		n = size - 1;
	memcpy(dst, a ? a + 1 : "", n);
	dst[n] = '\0';
}

/* Reads DATA up to the lone "." line, undoing dot-stuffing. */
static void read_data(FILE *in, struct seen *sn, int slot)
{
	char *line = NULL;
	size_t cap = 0, len = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, in)) > 0) {
		if (strcmp(line, ".\r\n") == 0)
			break;
		const char *p = line[0] == '.' ? line + 1 : line;
		size_t k = (size_t)n - (size_t)(p - line);
		if (len + k <= sizeof(sn->data[0])) {
			memcpy(sn->data[slot] + len, p, k);
			len += k;
		}
	}
	free(line);
	sn->len[slot] = len;
}

static void serve(int fd, struct seen *sn)
{
	FILE *in = fdopen(fd, "r"), *out = fdopen(dup(fd), "w");
	char *line = NULL, rcpt[128] = "", from[128] = "";
	size_t cap = 0;

	say(out, "220 responder ESMTP\r\n");
	while (getline(&line, &cap, in) > 0) {
		if (strncasecmp(line, "EHLO ", 5) == 0 || strncasecmp(line, "HELO ", 5) == 0) {
			snprintf(sn->helo, sizeof(sn->helo), "%.*s", (int)strcspn(line + 5, "\r\n"), line + 5);
			say(out, "250-responder\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			angle_copy(from, sizeof(from), line);
			say(out, "250 2.1.0 Ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			angle_copy(rcpt, sizeof(rcpt), line);
			if (strstr(rcpt, "fail550"))
				say(out, "550 5.1.1 <fail550@example.com>: Recipient address rejected: User unknown\r\n");
			else if (strstr(rcpt, "fail450"))
				say(out, "450 4.2.0 <fail450@example.com>: Mailbox busy, try again later\r\n");
			else
				say(out, "250 2.1.5 Ok\r\n");
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			int slot = __atomic_fetch_add(&sn->messages, 1, __ATOMIC_SEQ_CST) % MAX_MSGS;
			memcpy(sn->from[slot], from, sizeof(from));
			memcpy(sn->rcpt[slot], rcpt, sizeof(rcpt));
			say(out, "354 End data with <CR><LF>.<CR><LF>\r\n");
			read_data(in, sn, slot);
			say(out, "250 2.0.0 Ok: queued as 42\r\n");
		} else if (strncasecmp(line, "RSET", 4) == 0 || strncasecmp(line, "NOOP", 4) == 0) {
			say(out, "250 2.0.0 Ok\r\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(out, "221 2.0.0 Bye\r\n");
			break;
		} else {
			say(out, "502 5.5.2 Error: command not recognized\r\n");
		}
	}
	_exit(0);
}

static int listen_any(int *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

static int server_start(void **state)
{
	struct server *sv = calloc(1, sizeof(*sv));
	int lfd = listen_any(&sv->port);

	sv->seen = mmap(NULL, sizeof(struct seen), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(sv->seen != MAP_FAILED);
	sv->pid = fork();
	assert_true(sv->pid >= 0);
	if (sv->pid == 0) {
		setpgid(0, 0);
		signal(SIGCHLD, SIG_IGN); /* connection handlers reap themselves */
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				continue;
			__atomic_add_fetch(&sv->seen->connections, 1, __ATOMIC_SEQ_CST);
			if (fork() == 0) {
				close(lfd);
				serve(fd, sv->seen);
			}
			close(fd);
		}
	}
	setpgid(sv->pid, sv->pid);
	close(lfd);
	*state = sv;
	return 0;
}

static int server_stop(void **state)
{
	struct server *sv = *state;
	kill(-sv->pid, SIGKILL);
	waitpid(sv->pid, NULL, 0);
	munmap(sv->seen, sizeof(struct seen));
	free(sv);
	return 0;
}

static struct mail_sender *sender_for(const struct server *sv, long timeout)
{
	char url[64];
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", sv->port);
	struct mail_sender_options o = {
		.smtp_url = url, .helo = "kunren.test", .verify_tls = true, .timeout_seconds = timeout,
	};
	struct mail_sender *s = mail_sender_new(&o);
	assert_non_null(s);
	return s;
}

static void build(struct buf *b, int i)
{
	char subject[64];
	snprintf(subject, sizeof(subject), "訓練メール その%d", i);
	struct mail_message m = {
		.from_name = "情報システム部", .from_addr = "it@example.co.jp",
		.to_addr = "taro@example.co.jp", .subject = subject,
		.text = "本文です。\n", .html = "<p>本文です。</p>", .date = 1795783500,
		.tz = tz_get("Asia/Tokyo"), .id_domain = "example.co.jp",
	};
	buf_init(b, 0);
	assert_int_equal(mail_build(&m, b, NULL), 0);
}

/* ---- SMTP mode ---- */

static void test_smtp_reuses_connection(void **state)
{
	struct server *sv = *state;
	struct mail_sender *s = sender_for(sv, 10);
	struct buf msgs[3];

	for (int i = 0; i < 3; i++) {
		char *reply = NULL;
		build(&msgs[i], i);
		assert_int_equal(mail_sender_send(s, "bounce@example.co.jp", "taro@example.co.jp",
						  buf_slice(&msgs[i]), NULL, &reply), 0);
		assert_non_null(reply);
		assert_string_equal(reply, "250 2.0.0 Ok: queued as 42");
		free(reply);
	}
	assert_int_equal(sv->seen->connections, 1);
	assert_int_equal(sv->seen->messages, 3);
	assert_string_equal(sv->seen->helo, "kunren.test");
	for (int i = 0; i < 3; i++) {
		assert_string_equal(sv->seen->from[i], "bounce@example.co.jp");
		assert_string_equal(sv->seen->rcpt[i], "taro@example.co.jp");
		assert_int_equal(sv->seen->len[i], msgs[i].len);
		assert_memory_equal(sv->seen->data[i], msgs[i].p, msgs[i].len);
		buf_release(&msgs[i]);
	}
	mail_sender_free(s);
}

static void test_smtp_dot_stuffing_and_null_sender(void **state)
{
	struct server *sv = *state;
	struct mail_sender *s = sender_for(sv, 10);
	const char raw[] = "Subject: dots\r\n\r\n.\r\n..two\r\n.hidden\r\nend.\r\n";

	assert_int_equal(mail_sender_send(s, "", "taro@example.co.jp", slice_from(raw), NULL, NULL), 0);
	assert_int_equal(mail_sender_send(s, NULL, "taro@example.co.jp", slice_from(raw), NULL, NULL), 0);
	assert_int_equal(sv->seen->messages, 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(sv->seen->from[i], "");
		assert_int_equal(sv->seen->len[i], strlen(raw));
		assert_memory_equal(sv->seen->data[i], raw, strlen(raw));
	}
	mail_sender_free(s);
}

static void test_smtp_refusals(void **state)
{
	struct server *sv = *state;
	struct mail_sender *s = sender_for(sv, 10);
	struct buf msg;
	char *reply = NULL;

	build(&msg, 0);
	assert_int_equal(mail_sender_send(s, "it@example.co.jp", "fail550@example.com", buf_slice(&msg), NULL, &reply), -EIO);
	assert_non_null(reply);
	assert_non_null(strstr(reply, "550 5.1.1"));
	assert_non_null(strstr(reply, "User unknown"));
	free(reply);

	reply = NULL;
	assert_int_equal(mail_sender_send(s, "it@example.co.jp", "fail450@example.com", buf_slice(&msg), NULL, &reply), -EAGAIN);
	assert_non_null(reply);
	assert_non_null(strstr(reply, "450 4.2.0"));
	free(reply);

	/* The sender carries on after a refusal. */
	assert_int_equal(mail_sender_send(s, "it@example.co.jp", "ok@example.com", buf_slice(&msg), NULL, NULL), 0);
	assert_int_equal(sv->seen->messages, 1);
	assert_string_equal(sv->seen->rcpt[0], "ok@example.com");
	buf_release(&msg);
	mail_sender_free(s);
}

static void test_smtp_connection_trouble(void **state)
{
	(void)state;
	struct server dead = { 0 };
	char *reply = NULL;

	/* Nothing listens on a port we just gave back: connection refused. */
	close(listen_any(&dead.port));
	struct mail_sender *s = sender_for(&dead, 5);
	assert_int_equal(mail_sender_send(s, "a@b", "c@d", slice_from("Subject: x\r\n\r\nx\r\n"), NULL, &reply), -EAGAIN);
	assert_non_null(reply);
	assert_non_null(strstr(reply, "onnect")); /* libcurl's error text */
	free(reply);
	mail_sender_free(s);

	/* A listener that never greets: the timeout fires. */
	int lfd = listen_any(&dead.port);
	s = sender_for(&dead, 1);
	reply = NULL;
	assert_int_equal(mail_sender_send(s, "a@b", "c@d", slice_from("Subject: x\r\n\r\nx\r\n"), NULL, &reply), -EAGAIN);
	assert_non_null(reply);
	assert_non_null(strstr(reply, "timed out"));
	free(reply);
	mail_sender_free(s);
	close(lfd);
}

static void test_sender_arguments(void **state)
{
	struct server *sv = *state;
	struct mail_sender *s = sender_for(sv, 10);
	char *reply = (char *)"untouched";

	assert_int_equal(mail_sender_send(s, "a@b", "not-an-address", slice_from("x"), NULL, &reply), -EINVAL);
	assert_int_equal(mail_sender_send(s, "a b@c", "c@d", slice_from("x"), NULL, &reply), -EINVAL);
	assert_int_equal(mail_sender_send(s, "a@b", "c@d>\r\nRCPT TO:<e@f", slice_from("x"), NULL, &reply), -EINVAL);
	assert_string_equal(reply, "untouched");
	assert_int_equal(sv->seen->connections, 0);
	mail_sender_free(s);

	struct mail_sender_options none = { 0 };
	assert_null(mail_sender_new(&none));
	struct mail_sender_options bad_helo = { .smtp_url = "smtp://127.0.0.1:1", .helo = "bad helo/x" };
	assert_null(mail_sender_new(&bad_helo));
	mail_sender_free(NULL);
}

/* ---- outbox mode ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static bool eml_name_ok(const char *name)
{
	const char *dash = strchr(name, '-');
	if (!dash || dash == name || strlen(dash) != 1 + 8 + 4 || strcmp(dash + 9, ".eml") != 0)
		return false;
	for (const char *p = name; p < dash; p++)
		if (*p < '0' || *p > '9')
			return false;
	for (const char *p = dash + 1; p < dash + 9; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
	return true;
}

/* The only file in dir: checks its name and returns its content. */
static void only_eml(const char *dir, struct buf *content)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_type != DT_REG)
			continue;
		files++;
		assert_true(eml_name_ok(e->d_name));
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		buf_init(content, 0);
		assert_int_equal(file_read(path, 1 << 20, content), 0);
	}
	closedir(d);
	assert_int_equal(files, 1);
}

static void test_outbox(void **state)
{
	(void)state;
	char root[] = "/tmp/kunren-outbox-XXXXXX", dir[256], sub[300];
	struct buf msg, got;
	char *reply = NULL;

	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/outbox", root);
	struct mail_sender_options o = { .smtp_url = "", .outbox_dir = dir };
	struct mail_sender *s = mail_sender_new(&o);
	assert_non_null(s);
	build(&msg, 7);

	assert_int_equal(mail_sender_send(s, "it@example.co.jp", "taro@example.co.jp", buf_slice(&msg),
					  "tenant-1/campaign_2", &reply), 0);
	assert_non_null(reply);
	free(reply);
	snprintf(sub, sizeof(sub), "%s/tenant-1/campaign_2", dir);
	only_eml(sub, &got);
	assert_int_equal(got.len, msg.len);
	assert_memory_equal(got.p, msg.p, msg.len);
	buf_release(&got);

	assert_int_equal(mail_sender_send(s, "it@example.co.jp", "taro@example.co.jp", buf_slice(&msg), NULL, NULL), 0);
	only_eml(dir, &got);
	assert_memory_equal(got.p, msg.p, msg.len);
	buf_release(&got);

	const char *bad[] = { "../escape", "/abs", "a/../b", "a//b", ".", "..", "a/", "sp ace", "a\nb" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(mail_sender_send(s, "a@b", "c@d", buf_slice(&msg), bad[i], NULL), -EINVAL);
	assert_int_equal(mail_sender_send(s, "a@b", "bad", buf_slice(&msg), NULL, NULL), -EINVAL);
	mail_sender_free(s);

	/* An outbox that cannot be created: transient, with the reason. */
	char blocked[300];
	snprintf(blocked, sizeof(blocked), "%s/outbox/file-in-the-way", root);
	FILE *f = fopen(blocked, "w");
	assert_non_null(f);
	fclose(f);
	o.outbox_dir = blocked;
	o.smtp_url = NULL;
	s = mail_sender_new(&o);
	assert_non_null(s);
	reply = NULL;
	assert_int_equal(mail_sender_send(s, "a@b", "c@d", buf_slice(&msg), "x", &reply), -EAGAIN);
	assert_non_null(reply);
	assert_non_null(strstr(reply, "file-in-the-way"));
	free(reply);
	mail_sender_free(s);

	buf_release(&msg);
	assert_int_equal(nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_smtp_reuses_connection, server_start, server_stop),
		cmocka_unit_test_setup_teardown(test_smtp_dot_stuffing_and_null_sender, server_start, server_stop),
		cmocka_unit_test_setup_teardown(test_smtp_refusals, server_start, server_stop),
		cmocka_unit_test_setup_teardown(test_sender_arguments, server_start, server_stop),
		cmocka_unit_test(test_smtp_connection_trouble),
		cmocka_unit_test(test_outbox),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
