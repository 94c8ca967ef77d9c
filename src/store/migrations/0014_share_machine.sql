-- 0014: a share link's own exclusion choice (SPEC F6/G7).  1: the viewer sees
-- machine events excluded with the campaign's exclusion seconds (what every
-- link did before); 0: included.  Fixed when the link is made; the viewer
-- cannot switch it.
ALTER TABLE share_links ADD COLUMN exclude INTEGER NOT NULL DEFAULT 1;
