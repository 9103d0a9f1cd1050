DROP TABLE graph_permissions;
