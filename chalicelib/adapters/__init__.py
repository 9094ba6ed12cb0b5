"""Adapters: the table (PynamoDB), the user pool (Cognito), mail (SES), clocks and secrets."""
