"""The one DynamoDB table: its models, keys, one shared connection, the unit of work and a repository per aggregate."""
