-- 0033 number_field_range (sqlite): the smallest and largest value a buyer may give a declared number field.
ALTER TABLE "configurable_fields" ADD COLUMN "minimum" REAL NULL;
ALTER TABLE "configurable_fields" ADD COLUMN "maximum" REAL NULL;
