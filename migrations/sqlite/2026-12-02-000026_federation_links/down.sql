DROP TABLE federation_requests;
DROP TABLE federation_links;
