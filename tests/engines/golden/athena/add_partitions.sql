ALTER TABLE `lake`.`orders` ADD IF NOT EXISTS
  PARTITION (`_period` = '2024-01') LOCATION 's3://bucket/p/sales/orders/_period=2024-01/'
  PARTITION (`_period` = '2024-02') LOCATION 's3://bucket/p/sales/orders/_period=2024-02/'
