-- 0009: the trainer's own education page (issue 4): when set, a target who
-- clicked (or sent a form) is redirected there instead of the 種明かし page.
ALTER TABLE scenarios ADD COLUMN education_url TEXT NOT NULL DEFAULT '';
