"""Pure rules of Latchkey. Imports only the standard library: no AWS, Chalice or PynamoDB."""
