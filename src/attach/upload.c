/*
 * upload.c — attach_check: is a trainer's upload a real docx, xlsx or PDF we
 * can put a beacon into, and is it safe to open?
 *
 * The zip container is read with libzip straight from the request's bytes
 * (no temporary file) with its consistency checks on (central directory
 * against local headers).  Every entry is then actually unpacked, counting
 * as we go: the sizes in the headers are what a zip bomb lies about, so they
 * are checked first (cheap refusals) and then again against what comes out,
 * with the running total capped.  Only then is the OOXML structure looked at
 * (ooxml.c); PDFs go to pdfparse.c.
 */
#include "attach/attach_int.h"

/* An entry that unpacks to less than this cannot make a bomb, whatever its
 * ratio (a tiny styles.xml may well compress 300:1); the total cap still
 * holds for many of them. */
#define RATIO_FLOOR ((zip_uint64_t)256 << 10)

static bool name_safe(const char *name)
{
	size_t n = strlen(name);
	if (!n || name[0] == '/' || strchr(name, '\\') || strstr(name, ".."))
		return false;
	if (n >= 2 && name[1] == ':')
		return false; /* C:foo */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static bool ratio_over(zip_uint64_t unpacked, zip_uint64_t packed)
{
	if (unpacked <= RATIO_FLOOR)
		return false;
	return unpacked / ATTACH_ZIP_RATIO_MAX > packed; /* no multiplication: comp_size comes from the file */
}

/* Unpacks entry i, counting; *total is the running sum over the archive. */
static int unpack_count(zip_t *z, zip_uint64_t i, const zip_stat_t *st, zip_uint64_t *total, const char **ret_msg)
{
	zip_file_t *f = zip_fopen_index(z, i, 0);
	zip_uint64_t got = 0;
	int r = 0;

	if (!f) {
		*ret_msg = "an entry of the zip does not unpack (damaged or an unsupported format)";
		return -EINVAL;
	}
	_cleanup_free_ char *c = xmalloc(64 << 10);
	for (;;) {
		zip_int64_t n = zip_fread(f, c, 64 << 10);
		if (n < 0) {
			*ret_msg = "an entry of the zip is damaged (it does not unpack or its checksum is wrong)";
			r = -EINVAL;
			break;
		}
		if (n == 0)
			break;
		got += (zip_uint64_t)n;
		*total += (zip_uint64_t)n;
		if (*total > ATTACH_ZIP_UNPACKED_MAX) {
			*ret_msg = "the zip unpacks to more than 64 MiB";
			r = -EINVAL;
			break;
		}
		if (got > st->size) {
			*ret_msg = "an entry of the zip unpacks to more than its header says";
			r = -EINVAL;
			break;
		}
		if (ratio_over(got, st->comp_size)) {
			*ret_msg = "an entry of the zip is compressed more than 200:1 (a zip bomb?)";
			r = -EINVAL;
			break;
		}
	}
	if (!r && got != st->size) {
		*ret_msg = "an entry of the zip unpacks to less than its header says";
		r = -EINVAL;
	}
	zip_fclose(f);
	return r;
}

static int zip_check(zip_t *z, bool unpack, const char **ret_msg)
{
	zip_int64_t n = zip_get_num_entries(z, 0);
	zip_uint64_t declared = 0, total = 0;

	if (n <= 0) {
		*ret_msg = "the zip is empty";
		return -EINVAL;
	}
	if (n > ATTACH_ZIP_ENTRIES_MAX) {
		*ret_msg = "the zip has more than 1000 entries";
		return -EINVAL;
	}
	/* headers first: cheap refusals before anything is unpacked */
	for (zip_uint64_t i = 0; i < (zip_uint64_t)n; i++) {
		zip_stat_t st;
		zip_stat_init(&st);
		if (zip_stat_index(z, i, 0, &st) < 0 || !(st.valid & ZIP_STAT_NAME) || !(st.valid & ZIP_STAT_SIZE) ||
		    !(st.valid & ZIP_STAT_COMP_SIZE)) {
			*ret_msg = "the zip is damaged (an entry cannot be read)";
			return -EINVAL;
		}
		if (!name_safe(st.name)) {
			*ret_msg = "the zip has an entry name with \"..\", an absolute path, a backslash or a control character";
			return -EINVAL;
		}
		if (zip_name_locate(z, st.name, 0) != (zip_int64_t)i) {
			*ret_msg = "the zip has two entries with the same name";
			return -EINVAL;
		}
		if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
			*ret_msg = "the zip has an encrypted entry: upload the document itself, not a password zip";
			return -EINVAL;
		}
		if ((st.valid & ZIP_STAT_COMP_METHOD) && !zip_compression_method_supported(st.comp_method, 0)) {
			*ret_msg = "an entry of the zip uses a compression method we cannot read";
			return -EINVAL;
		}
		if (st.size > ATTACH_ZIP_UNPACKED_MAX || (declared += st.size) > ATTACH_ZIP_UNPACKED_MAX) {
			*ret_msg = "the zip unpacks to more than 64 MiB";
			return -EINVAL;
		}
		if (ratio_over(st.size, st.comp_size)) {
			*ret_msg = "an entry of the zip is compressed more than 200:1 (a zip bomb?)";
			return -EINVAL;
		}
	}
	/* then what really comes out */
	for (zip_uint64_t i = 0; unpack && i < (zip_uint64_t)n; i++) {
		zip_stat_t st;
		if (zip_stat_index(z, i, 0, &st) < 0) {
			*ret_msg = "the zip is damaged (an entry cannot be read)";
			return -EINVAL;
		}
		if (unpack_count(z, i, &st, &total, ret_msg) < 0)
			return -EINVAL;
	}
	return 0;
}

int attach__zip_open(struct slice file, bool unpack, zip_t **ret, const char **ret_msg)
{
	zip_error_t err;
	zip_error_init(&err);
	zip_source_t *src = zip_source_buffer_create(file.p, file.len, 0, &err);
	if (!src) {
		zip_error_fini(&err);
		*ret_msg = "the zip cannot be read";
		return -EINVAL;
	}
	zip_t *z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
	zip_error_fini(&err);
	if (!z) {
		zip_source_free(src);
		*ret_msg = "the zip is truncated or damaged";
		return -EINVAL;
	}
	if (zip_check(z, unpack, ret_msg) < 0) {
		zip_discard(z);
		return -EINVAL;
	}
	*ret = z;
	return 0;
}

int attach__zip_read(zip_t *z, const char *name, size_t max, struct buf *out)
{
	zip_stat_t st;
	zip_int64_t i = zip_name_locate(z, name, 0);

	buf_reset(out);
	if (i < 0)
		return -ENOENT;
	if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
		return -EIO;
	if (st.size > max)
		return -E2BIG;
	zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)i, 0);
	if (!f)
		return -EIO;
	int r = 0;
	char chunk[16384];
	for (;;) {
		zip_int64_t n = zip_fread(f, chunk, sizeof(chunk));
		if (n < 0) {
			r = -EIO;
			break;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max || buf_append(out, chunk, (size_t)n) < 0) {
			r = -E2BIG;
			break;
		}
	}
	zip_fclose(f);
	if (r < 0)
		buf_reset(out);
	return r;
}

static int check_zip(struct slice file, enum attach_kind *ret_kind, const char **ret_msg)
{
	struct ooxml_info info;
	zip_t *z;

	if (attach__zip_open(file, true, &z, ret_msg) < 0)
		return -EINVAL;
	int r = attach__ooxml_check(z, &info, ret_msg);
	zip_discard(z);
	if (r < 0)
		return -EINVAL;
	*ret_kind = info.kind;
	return 0;
}

static int check_pdf(struct slice file, const char **ret_msg)
{
	_cleanup_buf_ struct buf dict = BUF_INIT(ATTACH_PART_MAX);
	struct pdf p;
	struct pdf_ref page;
	int r = attach__pdf_open(file, &p, ret_msg);

	if (r >= 0)
		r = attach__pdf_first_page(&p, &page, &dict, ret_msg);
	attach__pdf_release(&p);
	return r < 0 ? -EINVAL : 0;
}

int attach_check(struct slice file, enum attach_kind *ret_kind, const char **ret_msg)
{
	if (!file.len) {
		*ret_msg = "the file is empty";
		return -EINVAL;
	}
	if (file.len > ATTACH_UPLOAD_MAX) {
		*ret_msg = "the file is larger than 10 MiB";
		return -EINVAL;
	}
	if (file.len >= 4 && !memcmp(file.p, "PK\x03\x04", 4))
		return check_zip(file, ret_kind, ret_msg);
	if (memmem(file.p, file.len < 1024 ? file.len : 1024, "%PDF-", 5)) {
		if (check_pdf(file, ret_msg) < 0)
			return -EINVAL;
		*ret_kind = ATTACH_PDF;
		return 0;
	}
	*ret_msg = "not a docx, xlsx or PDF file (a docx or xlsx is a zip starting with PK, a PDF starts with %PDF-)";
	return -EINVAL;
}
