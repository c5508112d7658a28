SELECT date_format(CAST("at" AS TIMESTAMP), '%Y-%m') AS p, COUNT(*) FROM "lake"."orders" WHERE "_upload_timestamp" <= TIMESTAMP '2024-06-01 12:00:00.123456' GROUP BY 1
