DROP TABLE client_secrets;
