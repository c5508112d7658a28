SELECT COUNT(*) FROM "lake"."orders" WHERE "_upload_timestamp" > TIMESTAMP '2024-06-01 12:00:00.123456'
