#!/usr/bin/env python3
"""Seeds campaign 1 of a bench server's database with N targets and N*PER
events straight into SQLite (sent, opens, a click, a submission, ...), as
store_events_add would leave them (targets.last_<kind>_ms).  Used by
bench/results.sh and bench/backup.sh.
Usage: seed_campaign.py DB TARGETS EVENTS_PER_TARGET
"""
import random, sqlite3, sys
db, n, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
c = sqlite3.connect(db, timeout=30)
c.execute("PRAGMA journal_mode=WAL")
t0 = 1712365200
depts = ["営業部", "総務部", "開発部", "経理部", "人事部", "情報システム部", "法務部", "広報部"]
pos = ["部長", "課長", "主任", "一般"]
with c:
    c.execute("UPDATE campaigns SET state = 'running', launched_at = ? WHERE id = 1", (t0,))
    c.executemany("INSERT INTO targets (id, campaign_id, rid, email, last_name, first_name, department, position, "
                  "field1, state, sent_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, 'sent', ?)",
                  ((i, f"R{i:019d}", f"user{i}@example.co.jp", f"山田{i}", "太郎", depts[i % 8], pos[i % 4],
                    f"勤続{i % 30}年", t0 + i // 100) for i in range(1, n + 1)))
    kinds = ["opened", "opened", "clicked", "submitted", "file_opened"]
    def events():
        for i in range(1, n + 1):
            sent = t0 + i // 100
            yield (i, "sent", sent * 1000, None, None)
            for k in range(per - 1):
                yield (i, kinds[k % 5], (sent + random.randint(5, 86400)) * 1000, "198.51.100.7",
                       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0")
    c.executemany("INSERT INTO events (campaign_id, target_id, kind, at_ms, ip, user_agent) VALUES (1, ?, ?, ?, ?, ?)",
                  events())
    # what store_events_add keeps with every event (migration 0004)
    for k in ("sent", "opened", "clicked", "file_opened", "submitted", "reported"):
        c.execute(f"UPDATE targets SET last_{k}_ms = coalesce((SELECT max(at_ms) FROM events e "
                  f"WHERE e.campaign_id = targets.campaign_id AND e.target_id = targets.id AND e.kind = '{k}'), 0)")
print(f"seeded {n} targets, {c.execute('SELECT count(*) FROM events').fetchone()[0]} events")
