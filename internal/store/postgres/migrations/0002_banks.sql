-- Banks listed by GET /api/v5/bank/ (and its older aliases). Thaili pays
-- from wallets only, so the list is what the operator adds with
-- `thaili bank add`; it starts empty.
-- Kept column-for-column equal to the SQLite schema.

CREATE TABLE banks (
	id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	idx                 TEXT NOT NULL UNIQUE,
	name                TEXT NOT NULL,
	short_name          TEXT NOT NULL,
	logo                TEXT NOT NULL DEFAULT '',
	swift_code          TEXT NOT NULL DEFAULT '',
	address             TEXT NOT NULL DEFAULT '',
	ebanking_url        TEXT NOT NULL DEFAULT '',
	has_ebanking        BOOLEAN NOT NULL DEFAULT false,
	has_mobile_checkout BOOLEAN NOT NULL DEFAULT false,
	has_direct_withdraw BOOLEAN NOT NULL DEFAULT false,
	has_nchl            BOOLEAN NOT NULL DEFAULT false,
	has_mobile_banking  BOOLEAN NOT NULL DEFAULT false,
	has_cardpayment     BOOLEAN NOT NULL DEFAULT false,
	play_store          TEXT NOT NULL DEFAULT '',
	app_store           TEXT NOT NULL DEFAULT '',
	created_at          BIGINT NOT NULL
);
CREATE INDEX banks_name ON banks (name, id);
