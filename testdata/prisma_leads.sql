-- A database as Prisma's SQLite connectors write it: quoted camelCase names, cuid text ids,
-- DateTime as integer milliseconds (native connector) mixed with ISO text (driver adapters,
-- CURRENT_TIMESTAMP defaults) in one column, Boolean as 0/1, Json in TEXT, an implicit
-- many-to-many join table and a log table, both without a primary key.
CREATE TABLE "Lead" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email" TEXT NOT NULL,
    "capturedAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "consent" BOOLEAN NOT NULL DEFAULT false,
    "meta" TEXT
);
CREATE TABLE "Tag" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL
);
CREATE TABLE "_LeadToTag" (
    "A" TEXT NOT NULL,
    "B" TEXT NOT NULL,
    CONSTRAINT "_LeadToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "Lead" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "_LeadToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "_LeadToTag_AB_unique" ON "_LeadToTag"("A", "B");
CREATE INDEX "_LeadToTag_B_index" ON "_LeadToTag"("B");
CREATE TABLE "AuditLog" (
    "message" TEXT NOT NULL,
    "at" DATETIME NOT NULL
);

INSERT INTO "Lead" VALUES
  ('clx9f2k1p0000qz8h3v5y7w1a', 'ann@example.com', 1764979200000, '2025-12-06 00:00:00', 1,
   '{"source":"ads","score":0.5}'),
  ('clx9f2k1p0001qz8h3v5y7w1b', 'bob@example.com', '2025-12-06T00:00:00.000Z', 1764979200123, 0,
   NULL),
  ('clx9f2k1p0002qz8h3v5y7w1c', 'cy@example.com', '2025-12-06 00:00:00 +00:00',
   '2025-12-06T01:00:00+01:00', 1, '[]');
INSERT INTO "Tag" VALUES ('clx9f2k1t0000tag000000001', 'vip'), ('clx9f2k1t0001tag000000002', 'new');
INSERT INTO "_LeadToTag" VALUES
  ('clx9f2k1p0000qz8h3v5y7w1a', 'clx9f2k1t0000tag000000001'),
  ('clx9f2k1p0000qz8h3v5y7w1a', 'clx9f2k1t0001tag000000002'),
  ('clx9f2k1p0002qz8h3v5y7w1c', 'clx9f2k1t0001tag000000002');
INSERT INTO "AuditLog" VALUES
  ('login', 1764979200000), ('login', 1764979200000), ('logout', '2025-12-06 00:05:00');
