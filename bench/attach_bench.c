/*
 * attach_bench — builds one training attachment per target of a campaign
 * (each with its own beacon URL, as the dispatcher will) and, in the same
 * run, copies a prebuilt file of the same kind per target (the floor: what
 * handing every mail the same bytes would cost).  Built and run by
 * bench/attach.sh against build/libkunren.a.
 *
 * Usage: attach_bench [targets]    (default 10000)
 * Prints one line per kind: files/s built, files/s copied, the ratio, the
 * mean file size, and the process's peak RSS so far.
 */
#include <sys/resource.h>

#include "attach/attach.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static const char *const body[] = {
	"山田 太郎 様",
	"平素は格別のご高配を賜り、厚く御礼申し上げます。",
	"2026年11月分のご請求書をお送りいたします。内容をご確認のうえ、期日までにお振込みくださいますようお願い申し上げます。",
	"ご不明な点がございましたら、経理部までお問い合わせください。",
};
static const char *const cells[] = { "品目", "数量", "単価", "金額",
				     "保守サービス 11月分", "1", "¥120,000", "¥120,000",
				     "追加作業（オンサイト対応）", "2", "¥6,000", "¥12,000",
				     "消費税", "", "", "¥13,200",
				     "合計", "", "", "¥145,200" };

enum { K_DOCX, K_XLSX, K_PDF, K_ZIP, K_PASSWORD, K_COUNT };
static const char *const names[] = { "docx", "xlsx", "pdf", "zip(docx)", "password zip(docx)" };

/* One target's file of kind k into out (reset first). */
static int build_one(int k, size_t target, struct buf *out, struct buf *scratch)
{
	char beacon[128], link[128];
	snprintf(beacon, sizeof(beacon), "https://track.example.co.jp/f/%020zu.gif", target);
	snprintf(link, sizeof(link), "https://track.example.co.jp/c/%020zu", target);
	struct attach_doc d = { .title = "請求書（2026年11月分）", .body = body, .nbody = ARRAY_SIZE(body),
				.cells = cells, .rows = 5, .cols = 4, .lang = "ja", .beacon_url = beacon,
				.link_url = k == K_PDF ? link : NULL };
	buf_reset(out);
	if (k <= K_PDF)
		return attach_build(k == K_DOCX ? ATTACH_DOCX : k == K_XLSX ? ATTACH_XLSX : ATTACH_PDF, &d, out);
	buf_reset(scratch);
	int r = attach_build(ATTACH_DOCX, &d, scratch);
	if (r < 0)
		return r;
	return attach_zip("請求書_2026年11月分.docx", buf_slice(scratch),
			  k == K_ZIP ? ATTACH_ARCHIVE_ZIP : ATTACH_ARCHIVE_PASSWORD, "Xq7-2mPw", out);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 10000;
	struct buf out = BUF_INIT(0), scratch = BUF_INIT(0), copy = BUF_INIT(0);

	printf("%-20s %10s %12s %14s %8s %10s %10s\n", "kind", "targets", "built/s", "copied/s", "ratio",
	       "bytes", "peak KiB");
	for (int k = 0; k < K_COUNT; k++) {
		/* the floor: a prebuilt file copied into each mail's buffer */
		if (build_one(k, 0, &out, &scratch) < 0)
			return 1;
		size_t check = 0;
		double t0 = now_s();
		for (size_t i = 0; i < n; i++) {
			buf_reset(&copy);
			if (buf_append(&copy, out.p, out.len) < 0)
				return 1;
			check += (unsigned char)copy.p[i % copy.len];   /* keep the copy alive */
		}
		double floor_s = now_s() - t0;

		size_t bytes = 0;
		t0 = now_s();
		for (size_t i = 0; i < n; i++) {
			if (build_one(k, i, &out, &scratch) < 0) {
				fprintf(stderr, "build failed at %zu\n", i);
				return 1;
			}
			bytes += out.len;
		}
		double built_s = now_s() - t0;
		printf("%-20s %10zu %12.0f %14.0f %8.0f %10zu %10ld%s\n", names[k], n, n / built_s,
		       n / (floor_s > 0 ? floor_s : 1e-9), (n / (floor_s > 0 ? floor_s : 1e-9)) / (n / built_s),
		       bytes / n, peak_kib(), check == (size_t)-1 ? "!" : "");
	}
	buf_release(&out);
	buf_release(&scratch);
	buf_release(&copy);
	return 0;
}
