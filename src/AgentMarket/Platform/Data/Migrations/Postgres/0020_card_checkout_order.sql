-- 0020 card_checkout_order (postgres): when the checkout that saved an organization's card started, so an older checkout's late webhook does not replace a newer card.
ALTER TABLE payment_customers ADD COLUMN card_checkout_started_utc timestamp with time zone;
