"""Creates the stack's resources on an endpoint (a moto server for `make run`, moto in tests).

In AWS the same resources come from the CloudFormation template in `infra/`.
"""
from __future__ import annotations

import json
from email.utils import parseaddr

from .dynamo import connection


def provision(region: str, table_name: str, mail_from: str, endpoint_url: str | None = None,
              pool_name: str = "latchkey-local") -> dict[str, str]:
    """Create table, user pool and app client, the mail queue, and verify the sender; returns the environment
    the app needs."""
    import boto3

    connection.create_table(table_name, region, endpoint_url)
    idp = boto3.client("cognito-idp", region_name=region, endpoint_url=endpoint_url)
    pool = idp.create_user_pool(
        PoolName=pool_name,
        Policies={"PasswordPolicy": {"MinimumLength": 8, "RequireUppercase": False, "RequireLowercase": False,
                                     "RequireNumbers": False, "RequireSymbols": False}},
        Schema=[{"Name": "email", "AttributeDataType": "String", "Mutable": True, "Required": False}],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True}, MfaConfiguration="OPTIONAL",
    )["UserPool"]
    idp.set_user_pool_mfa_config(UserPoolId=pool["Id"], MfaConfiguration="OPTIONAL",
                                 SoftwareTokenMfaConfiguration={"Enabled": True})
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="latchkey-api", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["email", "email_verified"], AccessTokenValidity=60, RefreshTokenValidity=30,
        TokenValidityUnits={"AccessToken": "minutes", "RefreshToken": "days"}, AuthSessionValidity=3,
    )["UserPoolClient"]
    sender = parseaddr(mail_from)[1]
    boto3.client("ses", region_name=region, endpoint_url=endpoint_url).verify_domain_identity(
        Domain=sender.split("@")[1])
    boto3.client("ses", region_name=region, endpoint_url=endpoint_url).verify_email_identity(EmailAddress=sender)
    sqs = boto3.client("sqs", region_name=region, endpoint_url=endpoint_url)
    dlq = sqs.create_queue(QueueName=f"{pool_name}-bulk-invitations-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName=f"{pool_name}-bulk-invitations", Attributes={
        "VisibilityTimeout": "30",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]
    mail_queue = f"{table_name}-mail"  # latchkey-<stage>-mail, as in infra/resources.yaml
    sqs.create_queue(QueueName=mail_queue, Attributes={"VisibilityTimeout": "180"})
    bucket = f"{pool_name}-exports"
    boto3.client("s3", region_name=region, endpoint_url=endpoint_url).create_bucket(Bucket=bucket)
    return {"TABLE_NAME": table_name, "USER_POOL_ID": pool["Id"], "USER_POOL_CLIENT_ID": client["ClientId"],
            "MAIL_FROM": mail_from, "AWS_REGION": region, "BULK_INVITATIONS_QUEUE_URL": queue,
            "EXPORT_BUCKET": bucket, "MAIL_QUEUE": mail_queue}
