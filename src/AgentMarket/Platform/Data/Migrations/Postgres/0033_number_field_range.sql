-- 0033 number_field_range (postgres): the smallest and largest value a buyer may give a declared number field.
ALTER TABLE configurable_fields ADD COLUMN minimum double precision NULL;
ALTER TABLE configurable_fields ADD COLUMN maximum double precision NULL;
