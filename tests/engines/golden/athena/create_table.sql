CREATE EXTERNAL TABLE IF NOT EXISTS `lake`.`orders` (
  `id` bigint,
  `amount` decimal(12,2),
  `ratio` double,
  `flag` boolean,
  `name` string,
  `payload` binary,
  `born` date,
  `at` timestamp,
  `_upload_timestamp` timestamp
)
PARTITIONED BY (`_period` string)
STORED AS PARQUET
LOCATION 's3://bucket/p/sales/orders/'
TBLPROPERTIES ('parquet.compression'='ZSTD', 'classification'='parquet')
