-- Banks listed by GET /api/v5/bank/ (and its older aliases). Thaili pays
-- from wallets only, so the list is what the operator adds with
-- `thaili bank add`; it starts empty. Flags are 0 or 1.

CREATE TABLE banks (
	id                  INTEGER PRIMARY KEY,
	idx                 TEXT NOT NULL UNIQUE,
	name                TEXT NOT NULL,
	short_name          TEXT NOT NULL,
	logo                TEXT NOT NULL DEFAULT '',
	swift_code          TEXT NOT NULL DEFAULT '',
	address             TEXT NOT NULL DEFAULT '',
	ebanking_url        TEXT NOT NULL DEFAULT '',
	has_ebanking        INTEGER NOT NULL DEFAULT 0,
	has_mobile_checkout INTEGER NOT NULL DEFAULT 0,
	has_direct_withdraw INTEGER NOT NULL DEFAULT 0,
	has_nchl            INTEGER NOT NULL DEFAULT 0,
	has_mobile_banking  INTEGER NOT NULL DEFAULT 0,
	has_cardpayment     INTEGER NOT NULL DEFAULT 0,
	play_store          TEXT NOT NULL DEFAULT '',
	app_store           TEXT NOT NULL DEFAULT '',
	created_at          INTEGER NOT NULL
);
CREATE INDEX banks_name ON banks (name, id);
