import { sqlMigration } from "./types";

// Events (contract 7) and notifications. wallet_event_heads holds each wallet's last event id: the
// row lock taken to advance it serialises a wallet's event writers until commit, so ids commit (and
// NOTIFY delivers them) in increasing order per wallet. wallet_events is the bounded replay log.
export default sqlMigration(
  "0180-events-notifications",
  `
  CREATE TABLE wallet_event_heads (
    wallet varchar(44) PRIMARY KEY,
    last_id bigint NOT NULL CHECK (last_id > 0)
  );
  CREATE TABLE wallet_events (
    wallet varchar(44) NOT NULL,
    id bigint NOT NULL,
    type varchar(40) NOT NULL,
    data jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (wallet, id)
  );
  CREATE INDEX wallet_events_at_idx ON wallet_events (at);
  CREATE TABLE notifications (
    id bigserial PRIMARY KEY,
    wallet varchar(44) NOT NULL,
    type varchar(40) NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz
  );
  CREATE INDEX notifications_wallet_id_idx ON notifications (wallet, id DESC);
  CREATE INDEX notifications_unread_idx ON notifications (wallet) WHERE read_at IS NULL;
  `,
  `DROP TABLE notifications; DROP TABLE wallet_events; DROP TABLE wallet_event_heads;`,
);
