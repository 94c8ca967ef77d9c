-- 0010: education material (SPEC D9, issue 4): the awareness texts a trainer
-- hands to targets before and after a drill, per tenant and language.  A
-- missing row means the built-in default (content_education_default).
CREATE TABLE education (
	tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('before','after')),
	lang TEXT NOT NULL CHECK (lang IN ('ja','en')),
	title TEXT NOT NULL,
	body TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, kind, lang)
);
