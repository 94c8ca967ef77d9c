/* sign.c — webhook secrets and the Kunren-Signature header (webhook.h). */
#include "webhook/webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

void webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1])
{
	memcpy(out, "whsec_", 6);
	id_random(out + 6, WEBHOOK_SECRET_LEN - 6);
}

int webhook_sign(struct slice secret, int64_t t, struct slice body, char out[WEBHOOK_SIGNATURE_MAX])
{
	char ts[24];
	snprintf(ts, sizeof(ts), "%lld", (long long)t);
	/* the signed text: "<t>.<body>" */
	_cleanup_buf_ struct buf msg = BUF_INIT(st_add(body.len, 32));
	if (buf_printf(&msg, "%s.", ts) < 0 || buf_put_slice(&msg, body) < 0)
		return -ENOMEM;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	if (!HMAC(EVP_sha256(), secret.p, (int)secret.len, (const unsigned char *)msg.p, msg.len, mac, &maclen) ||
	    maclen != 32)
		return -EIO;
	static const char hex[] = "0123456789abcdef";
	int at = snprintf(out, WEBHOOK_SIGNATURE_MAX, "t=%s,v1=", ts);
	BUG_ON(at < 0 || (size_t)at + 2 * maclen >= WEBHOOK_SIGNATURE_MAX);
	for (unsigned i = 0; i < maclen; i++) {
		out[at++] = hex[mac[i] >> 4];
		out[at++] = hex[mac[i] & 15];
	}
	out[at] = '\0';
	return 0;
}
