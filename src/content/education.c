/*
 * education.c — the built-in education material (SPEC D9): what targets
 * read before a drill (how to spot phishing) and after it (what happened,
 * what to do next time), in Japanese and English.  A tenant's own edits
 * (store_education_*) replace these; paragraphs are separated by blank lines.
 */
#include "content/content.h"

struct education_text {
	const char *kind, *lang, *title, *body;
};

static const struct education_text defaults[] = {
	{ "before", "ja", "訓練前の注意：不審なメールの見分け方",
	  "私たちの組織を狙う攻撃の多くは、一通のメールから始まります。実在の取引先や社内部署、"
	  "宅配業者、金融機関などを装い、リンクを開かせたり、添付ファイルを実行させたり、"
	  "パスワードを入力させたりしようとします。次の点を確かめる習慣をつけましょう。\n"
	  "\n"
	  "■ 差出人を確かめる\n"
	  "表示名ではなく、メールアドレスのドメイン（@より後ろ）を見てください。"
	  "正規のドメインに似せた綴り（例：rn と m の入れ替え、余分なハイフン）や、"
	  "無料メールサービスのアドレスは要注意です。知っている相手でも、普段と違う言葉遣いや依頼は疑いましょう。\n"
	  "\n"
	  "■ リンクの行き先を確かめる\n"
	  "リンクはすぐに開かず、マウスを重ねて（スマートフォンでは長押しして）実際の URL を確認してください。"
	  "表示されている文字と行き先が違う、見慣れないドメインや短縮 URL が使われている場合は開かないでください。"
	  "ログインが必要なときは、メールのリンクではなくブックマークや公式アプリから開きましょう。\n"
	  "\n"
	  "■ 添付ファイルに注意する\n"
	  "心当たりのない請求書や配送通知の添付ファイルは開かないでください。"
	  "圧縮ファイルやパスワード付き ZIP、Office ファイルの「コンテンツの有効化」「編集を有効にする」は特に危険です。"
	  "必要なら、別の連絡手段で送信者に確認してから開きましょう。\n"
	  "\n"
	  "■ 急がせる・不安をあおる文面を疑う\n"
	  "「本日中に対応しないとアカウントが停止されます」「至急」「未払い」「重要なお知らせ」などの言葉は、"
	  "考える時間を奪うための典型的な手口です。急いでいるときほど、一度手を止めて確認してください。\n"
	  "\n"
	  "■ 迷ったら報告する\n"
	  "不審なメールを受け取ったら、開いたり転送したりせず、情報システム部門などの報告窓口へ連絡してください。"
	  "うっかりリンクを開いてしまった、情報を入力してしまった場合も、責められることはありません。"
	  "早く報告するほど被害を小さくできます。\n"
	  "\n"
	  "近日中に、実際の攻撃メールを模した訓練メールが届くことがあります。"
	  "上の点を意識して、いつもどおりの業務の中で落ち着いて対応してください。" },
	{ "before", "en", "Before the drill: how to spot a phishing email",
	  "Most attacks on organisations like ours begin with a single email. It pretends to come from a "
	  "real customer, a colleague, a delivery company or a bank, and tries to make you open a link, run an "
	  "attachment or type in your password. Make a habit of checking the following.\n"
	  "\n"
	  "Check the sender\n"
	  "Look at the address, not the display name: the domain after the @ is what counts. Be wary of "
	  "look-alike spellings (\"rn\" for \"m\", an extra hyphen or letter) and of free mail services used for "
	  "business requests. Even when the sender is someone you know, an unusual tone or request is a warning sign.\n"
	  "\n"
	  "Check where links lead\n"
	  "Do not click at once. Hover over the link (or press and hold on a phone) to see the real address. If "
	  "the text and the destination differ, or the domain is unfamiliar or shortened, do not open it. When "
	  "you need to sign in, use your bookmark or the official app instead of the link in the mail.\n"
	  "\n"
	  "Be careful with attachments\n"
	  "Do not open invoices, delivery notices or other files you were not expecting. Archives, "
	  "password-protected ZIP files and Office documents that ask you to \"Enable Content\" or \"Enable "
	  "Editing\" are especially dangerous. If in doubt, confirm with the sender by another channel first.\n"
	  "\n"
	  "Distrust urgency and pressure\n"
	  "\"Your account will be suspended today\", \"urgent\", \"payment overdue\" and \"important notice\" "
	  "are classic tricks to stop you from thinking. The more you are being rushed, the more reason to pause "
	  "and check.\n"
	  "\n"
	  "When in doubt, report it\n"
	  "If a message looks suspicious, do not open or forward it: report it to your security or IT contact. "
	  "If you already clicked a link or entered information, report that too; nobody will blame you, and "
	  "the sooner we know, the less harm is done.\n"
	  "\n"
	  "In the coming days you may receive a training email made to look like a real attack. Keep these "
	  "points in mind and handle your mail calmly, as you would on any other day." },
	{ "after", "ja", "訓練後の振り返り：今回の訓練について",
	  "先日お送りしたメールの一部は、情報セキュリティ意識向上のための標的型メール訓練でした。"
	  "ご協力ありがとうございました。訓練メールのリンクや添付ファイルは安全なもので、"
	  "入力された内容が保存されたり、パソコンに害を与えたりすることはありません。\n"
	  "\n"
	  "■ 今回何が起きたのか\n"
	  "訓練メールは、実在しそうな差出人や件名を使い、リンクを開く・添付ファイルを開く・"
	  "情報を入力するといった行動を促すように作られていました。"
	  "実際の攻撃であれば、この一つの操作でウイルスに感染したり、パスワードを盗まれたりするおそれがありました。\n"
	  "\n"
	  "■ 開いてしまった方へ\n"
	  "誰かを責めるための訓練ではありません。巧妙なメールは誰でもだまされる可能性があります。"
	  "大切なのは、どこに気づけたはずかを振り返り、次に生かすことです。"
	  "差出人のドメイン、リンクの実際の行き先、急がせる文面など、見分けるポイントをもう一度確認してください。\n"
	  "\n"
	  "■ 次に同じようなメールが届いたら\n"
	  "1. すぐにリンクや添付ファイルを開かず、差出人とリンクの行き先を確認する。\n"
	  "2. 少しでも不審に感じたら、メールに返信せず、別の連絡手段で送信者に確認する。\n"
	  "3. 報告窓口に連絡する。開いてしまった、入力してしまった場合は、すぐに報告する。\n"
	  "\n"
	  "■ 報告は最大の防御です\n"
	  "不審なメールを報告してくださった方、ありがとうございました。"
	  "一人の報告が、組織全体を攻撃から守るきっかけになります。"
	  "今後も定期的に訓練を行います。日頃から落ち着いて確認し、迷ったら報告する習慣を続けましょう。" },
	{ "after", "en", "After the drill: what happened and what to do next time",
	  "Some of the emails you received recently were part of a phishing awareness drill. Thank you for "
	  "taking part. The links and attachments in the training emails were harmless: nothing you typed was "
	  "kept, and nothing was installed on your computer.\n"
	  "\n"
	  "What happened\n"
	  "The training emails used believable senders and subjects, and were designed to make you open a link, "
	  "open an attachment or enter information. In a real attack, that single action could have installed "
	  "malware or handed your password to a criminal.\n"
	  "\n"
	  "If you clicked\n"
	  "This drill is not about blaming anyone: a well-crafted message can fool anybody. What matters is to "
	  "look back at the clues you could have noticed and to use them next time: the sender's domain, where "
	  "the link really led, and wording that tried to rush you.\n"
	  "\n"
	  "What to do next time\n"
	  "1. Do not open links or attachments straight away; check the sender and where the link leads.\n"
	  "2. If anything feels wrong, do not reply to the email; confirm with the sender by another channel.\n"
	  "3. Report it to your security or IT contact, and report at once if you have already clicked or "
	  "entered information.\n"
	  "\n"
	  "Reporting is the best defence\n"
	  "Thank you to everyone who reported the email. One report can protect the whole organisation. We will "
	  "run drills like this regularly; keep checking calmly, and when in doubt, report." },
};

int content_education_default(const char *kind, const char *lang, const char **ret_title,
			      const char **ret_body)
{
	if (!kind || !lang)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		if (!strcmp(defaults[i].kind, kind) && !strcmp(defaults[i].lang, lang)) {
			*ret_title = defaults[i].title;
			*ret_body = defaults[i].body;
			return 0;
		}
	return -EINVAL;
}
